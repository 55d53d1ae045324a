/** The `key=value` lines the host scripts print: every value of each key, in order, trimmed. */
export function parseKeyValueLines(text: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return values;
}

/** The first value of each key. */
export function parseKeyValues(text: string): Map<string, string> {
  return new Map([...parseKeyValueLines(text)].map(([key, values]) => [key, values[0]]));
}
