import { configError } from '../errors.js';

/**
 * Splits a command line into words as a POSIX shell (and Python's shlex.split) does for quoting: single quotes keep
 * everything, double quotes keep all but \" and \\, a backslash escapes the next character. No expansion of any kind.
 */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw configError(`unterminated ${quote} quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

/** A command line with no shell syntax runs as it is; anything else (pipes, variables, globs) through /bin/sh. */
export function commandArgv(command: string): string[] {
  return /[|&;<>()$`*?[\]{}~]/.test(command) ? ['/bin/sh', '-c', command] : splitCommandLine(command);
}
