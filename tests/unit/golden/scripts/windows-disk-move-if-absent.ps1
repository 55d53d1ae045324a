# <windows-prelude>
$temp = 'C:/VMs/base.img.upload-1a2b'; $path = 'C:/VMs/base.img'
if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $temp -Force; [Console]::Error.WriteLine("$path appeared during the upload"); exit 1 }
Move-Item -LiteralPath $temp -Destination $path
