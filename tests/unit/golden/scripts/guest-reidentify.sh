# <file: guest-reidentify.sh>

# $0 and arguments: ["reidentify","web-3","1800000000","52:54:00:12:34:57","52:54:0a:4d:00:0d","10.77.0.13/24"]
