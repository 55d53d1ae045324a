/** QEMU's own escaping inside `-opt key=value,key=value`: a comma in a value is written twice. */
export function optionValue(value: string): string {
  return value.replace(/,/g, ",,");
}
