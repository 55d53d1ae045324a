# <windows-prelude>
$temp = 'C:/VMs/base.img.upload-1a2b'
Get-ChildItem -LiteralPath (Split-Path -LiteralPath $temp) -File | Where-Object { $_.FullName -eq $temp.Replace('/', '\') -or $_.Name.StartsWith((Split-Path -Leaf $temp) + '.tmp-') } | Remove-Item -Force
