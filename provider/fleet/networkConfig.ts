/**
 * The cloud-init network-config a Fleet gives a member on its private network when the
 * template's cloudInit has none: without it cloud-init configures only its fallback (DHCP on
 * the first NIC) and the private NIC stays without its address. Pure.
 */
import { defaultMac, macFor } from "../subnet";

/**
 * Version 2: the user-mode NIC (when the member has one, first: QEMU gives it its default MAC)
 * by DHCP, the private NIC its address; both matched by MAC, so the guest's names stand. The
 * seed writes it as YAML 1.1, which quotes the MACs (see seed.ts).
 */
export function memberNetworkConfig(userNic: boolean, address: string, prefix: number): Record<string, unknown> {
  return {
    version: 2,
    ethernets: {
      ...(userNic ? { user0: { match: { macaddress: defaultMac(0) }, dhcp4: true } } : {}),
      private0: { match: { macaddress: macFor(address) }, addresses: [`${address}/${prefix}`] },
    },
  };
}
