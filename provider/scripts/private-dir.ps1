# Makes $dir when it is missing, private to the SSH user as a POSIX mode 700 directory would be:
# inheritance off, full control for this user, SYSTEM and the Administrators group only. Windows
# has no file modes: a file written inside (a secret, a seed) takes this ACL. A directory that
# was there already is left as its owner set it.
if (Test-Path -LiteralPath $dir -PathType Container) { exit 0 }
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$acl = New-Object System.Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
$me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User
$system = New-Object System.Security.Principal.SecurityIdentifier 'S-1-5-18'
$admins = New-Object System.Security.Principal.SecurityIdentifier 'S-1-5-32-544'
foreach ($who in @($me, $system, $admins)) {
  $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
}
# Under 'Stop' a refused Set-Acl ends the script with an error: the caller fails instead of writing into a readable directory.
Set-Acl -LiteralPath $dir -AclObject $acl
