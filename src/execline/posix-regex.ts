/**
 * POSIX extended regular expressions (regcomp with REG_EXTENDED, as eltest's =~ and case
 * use them) as JavaScript RegExps. The two agree on most of the syntax; what differs is
 * translated: bracket expressions (a backslash is a plain character there, and [:class:]
 * names a class), GNU's word anchors \< and \>, and the characters JavaScript gives a
 * meaning of its own after a backslash.
 */

const CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
};

/** Thrown for what regcomp refuses; the message is regerror's idea of it. */
export class RegexSyntaxError extends Error {}

/** A bracket expression starting at `pattern[start]` ('['): its JavaScript form and where it ends. */
export function bracket(pattern: string, start: number): { source: string; end: number } {
  let index = start + 1;
  let source = '[';
  if (pattern[index] === '^') {
    source += '^';
    index++;
  }
  let first = true;
  for (;;) {
    const char = pattern[index];
    if (char === undefined) throw new RegexSyntaxError('Unmatched [, [^, [:, [., or [=');
    if (char === ']' && !first) return { source: `${source}]`, end: index + 1 };
    first = false;
    if (char === '[' && pattern[index + 1] === ':') {
      const close = pattern.indexOf(':]', index + 2);
      const name = close < 0 ? undefined : pattern.slice(index + 2, close);
      const members = name === undefined ? undefined : CLASSES[name];
      if (members === undefined) throw new RegexSyntaxError('Invalid character class name');
      source += members;
      index = close + 2;
      continue;
    }
    // Inside brackets every other character is itself, a backslash included.
    source += char === '\\' || char === ']' ? `\\${char}` : char;
    index++;
  }
}

/** The RegExp matching what `pattern` matches as a POSIX ERE; throws RegexSyntaxError for what regcomp refuses. */
export function posixExtendedRegex(pattern: string, flags = ''): RegExp {
  let source = '';
  let depth = 0;
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index] ?? '';
    if (char === '[') {
      const { source: part, end } = bracket(pattern, index);
      source += part;
      index = end;
      continue;
    }
    if (char === '\\') {
      const next = pattern[index + 1];
      if (next === undefined) throw new RegexSyntaxError('Trailing backslash');
      if (next === '<') source += '\\b(?=\\w)';
      else if (next === '>') source += '\\b(?<=\\w)';
      // GNU's word escapes mean in JavaScript what they mean to glibc; any other escaped character is itself.
      else if ('wWsSbB'.includes(next)) source += `\\${next}`;
      else source += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
      index += 2;
      continue;
    }
    if (char === '(') depth++;
    if (char === ')') {
      // An unmatched ) is an ordinary character in an ERE.
      if (depth === 0) {
        source += '\\)';
        index++;
        continue;
      }
      depth--;
    }
    // A { that does not start an interval is an ordinary character, as with glibc.
    if (char === '{' && !/^\{\d+(,\d*)?\}/.test(pattern.slice(index))) source += '\\{';
    else if (char === '}' && !/\{\d+(,\d*)?$/.test(pattern.slice(0, index))) source += '\\}';
    else if (char === '/') source += '\\/';
    else source += char;
    index++;
  }
  if (depth > 0) throw new RegexSyntaxError('Unmatched ( or \\(');
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new RegexSyntaxError(error instanceof Error ? error.message : String(error));
  }
}
