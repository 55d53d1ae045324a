/**
 * The cloud-init network-config a Fleet gives a member on its private network when the
 * template's cloudInit has none: without it cloud-init configures only its fallback (DHCP on
 * the first NIC) and the private NIC stays without its address. Pure.
 */
import { defaultMac, macFor } from "../subnet";

/**
 * Version 2, as YAML text: the user-mode NIC (when the member has one, first: QEMU gives it its
 * default MAC) by DHCP, the private NIC its address; both matched by MAC, so the guest's names
 * stand. The MACs are quoted: cloud-init's YAML 1.1 reads 52:54:00:12:34:56 as a base-60 number.
 */
export function memberNetworkConfig(userNic: boolean, address: string, prefix: number): string {
  const nic = (name: string, mac: string, how: string) => `  ${name}:\n    match:\n      macaddress: "${mac}"\n    ${how}\n`;
  return "version: 2\nethernets:\n" +
    (userNic ? nic("user0", defaultMac(0), "dhcp4: true") : "") +
    nic("private0", macFor(address), `addresses: ["${address}/${prefix}"]`);
}
