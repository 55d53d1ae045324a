# <file: prelude.ps1>
