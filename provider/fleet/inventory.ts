/** What a fleet hands to the tools that use it: an Ansible inventory and an ~/.ssh/config snippet. */
import { stringify } from "yaml";
import { InvalidArgumentError } from "../errors";

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
  /** Its address on the fleet's Network (with `network`). */
  privateAddress?: string;
}

/** Ansible's YAML inventory: one group per host under `all.children`, every member a host in its group. */
export function ansibleInventory(members: FleetMember[], privateKeyFile?: string): string {
  const groups: Record<string, { hosts: Record<string, Record<string, string | number>> }> = {};
  for (const m of members) {
    const group = (groups[groupName(m.host)] ??= { hosts: {} });
    group.hosts[m.name] = {
      ...(m.sshPort > 0 ? { ansible_host: m.sshHost, ansible_port: m.sshPort } : {}), ansible_user: m.sshUser,
      ...(privateKeyFile ? { ansible_ssh_private_key_file: privateKeyFile } : {}),
      ...(m.privateAddress ? { private_address: m.privateAddress } : {}),
    };
  }
  return stringify({ all: { children: groups } });
}

/** Ansible group names are identifiers: anything else becomes '_'. */
export function groupName(hostKey: string): string {
  const name = hostKey.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `host_${name}`;
}

/** One `Host` block per member, so that `ssh -F <file> <member>` reaches its guest; members with no forwarded SSH have none. */
export function sshConfig(members: FleetMember[], privateKeyFile?: string): string {
  return members.filter((m) => m.sshPort > 0).map((m) => [
    `Host ${sshConfigWord(m.name, "names", "pattern")}`,
    `  HostName ${sshConfigWord(m.sshHost, "hosts (address)", "word")}`,
    `  Port ${sshConfigWord(String(m.sshPort), "ports", "word")}`,
    `  User ${sshConfigWord(m.sshUser, "template.guestUser", "word")}`,
    ...(privateKeyFile ? [`  IdentityFile ${sshConfigPath(privateKeyFile)}`, "  IdentitiesOnly yes"] : []),
    "",
  ].join("\n")).join("\n");
}

/**
 * A value ssh_config reads as one plain word: no whitespace, quote, '#', '%' (a token), and for a
 * Host pattern no '*', '?', '!' or ','. Anything else would be read as more than the value (a
 * newline in a user name adds a ProxyCommand): refused, naming the property.
 */
export function sshConfigWord(value: string, property: string, kind: "word" | "pattern"): string {
  const bad = kind === "pattern" ? /[\s"'#%\\*?!,\x00-\x1f\x7f]/ : /[\s"'#%\\\x00-\x1f\x7f]/;
  if (typeof value !== "string" || value === "" || bad.test(value)) {
    throw new InvalidArgumentError(property, `cannot be written into an ssh_config file as one word (whitespace, quotes, '#', '%', '\\' and control characters are refused), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A file path for ssh_config: double-quoted, '%' escaped (ssh expands %-tokens in IdentityFile); no quote or control character. */
export function sshConfigPath(path: string, property = "privateKeyFile"): string {
  if (typeof path !== "string" || path === "" || /["\x00-\x1f\x7f]/.test(path)) {
    throw new InvalidArgumentError(property, `cannot be written into an ssh_config file (a double quote or a control character), got ${JSON.stringify(path)}`);
  }
  return `"${path.replace(/%/g, "%%")}"`;
}
