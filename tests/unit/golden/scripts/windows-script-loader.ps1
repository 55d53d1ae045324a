$n = 131
$EXIT_SCRIPT_CUT_SHORT = 64
# <file: loader.ps1>
