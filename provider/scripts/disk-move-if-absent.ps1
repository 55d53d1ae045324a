# Renames the uploaded $temp to $path unless something appeared there meanwhile (then $temp goes, exit 3: diskScripts.ts APPEARED_EXIT).
if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $temp -Force; [Console]::Error.WriteLine("$path appeared during the upload"); exit 3 }
Move-Item -LiteralPath $temp -Destination $path
