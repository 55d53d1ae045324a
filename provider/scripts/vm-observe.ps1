# For each VM of $vms in turn: `vm=<index>`, then its observation.
for ($i = 0; $i -lt $vms.Count; $i++) { "vm=$i"; Write-Observation $vms[$i] }
exit 0
