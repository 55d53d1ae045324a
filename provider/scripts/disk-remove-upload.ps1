# Removes an upload's $temp file and the writer's own temp beside it (<temp>.tmp-*), left when a timeout ended it.
Get-ChildItem -LiteralPath (Split-Path -LiteralPath $temp) -File | Where-Object { $_.FullName -eq $temp.Replace('/', '\') -or $_.Name.StartsWith((Split-Path -Leaf $temp) + '.tmp-') } | Remove-Item -Force
