/** What a fleet hands to the tools that use it: an Ansible inventory and an ~/.ssh/config snippet. */
import { stringify } from "yaml";

export interface FleetMember {
  name: string;
  /** The fleet's key of the host the member runs on. */
  host: string;
  /** Where the guest's SSH answers: the host's address (or 127.0.0.1 on the local machine) and the forwarded port. */
  sshHost: string;
  sshPort: number;
  sshUser: string;
  status: string;
  accelerator?: string;
}

/** Ansible's YAML inventory: one group per host under `all.children`, every member a host in its group. */
export function ansibleInventory(members: FleetMember[], privateKeyFile?: string): string {
  const groups: Record<string, { hosts: Record<string, Record<string, string | number>> }> = {};
  for (const m of members) {
    const group = (groups[groupName(m.host)] ??= { hosts: {} });
    group.hosts[m.name] = {
      ansible_host: m.sshHost, ansible_port: m.sshPort, ansible_user: m.sshUser,
      ...(privateKeyFile ? { ansible_ssh_private_key_file: privateKeyFile } : {}),
    };
  }
  return stringify({ all: { children: groups } });
}

/** Ansible group names are identifiers: anything else becomes '_'. */
export function groupName(hostKey: string): string {
  const name = hostKey.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `host_${name}`;
}

/** One `Host` block per member, so that `ssh -F <file> <member>` reaches its guest. */
export function sshConfig(members: FleetMember[], privateKeyFile?: string): string {
  return members.map((m) => [
    `Host ${m.name}`,
    `  HostName ${m.sshHost}`,
    `  Port ${m.sshPort}`,
    `  User ${m.sshUser}`,
    ...(privateKeyFile ? [`  IdentityFile ${privateKeyFile}`, "  IdentitiesOnly yes"] : []),
    "",
  ].join("\n")).join("\n");
}
