# Renames the uploaded $temp to $path unless something appeared there meanwhile (then $temp goes).
if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $temp -Force; [Console]::Error.WriteLine("$path appeared during the upload"); exit 1 }
Move-Item -LiteralPath $temp -Destination $path
