# A VM's state-directory files, as the caller passes them; the script's own arguments follow.
name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; agentsock=${10}; shift 10
