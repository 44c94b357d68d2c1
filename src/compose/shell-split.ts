/**
 * Split a command string into words the way Compose does (POSIX shlex):
 * whitespace separates, single quotes are literal, double quotes allow
 * backslash escapes of `"`, `\`, `$` and backtick, a backslash outside quotes
 * escapes the next character. Returns null on an unterminated quote.
 */
export function shellSplit(input: string): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return null;
      cur += input.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      let closed = false;
      for (; i < input.length; i++) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) {
          cur += input[++i];
          continue;
        }
        cur += d;
      }
      if (!closed) return null;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < input.length) cur += input[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
