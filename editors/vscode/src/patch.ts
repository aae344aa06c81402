// A run's patch (a git diff) applied to a file's text, for the diff view only: VS Code's
// `vscode.diff` needs the patched text of each file, and the server sends the patch itself. The
// real apply goes through the server (`selfcoder.apply` → workspace/applyEdit), never this code.

export interface FilePatch {
  path: string; // the path after the patch, relative to the folder
  oldPath: string | null; // null for a created file
  deleted: boolean;
  hunks: Hunk[];
}

interface Hunk {
  oldStart: number; // 1-based
  lines: string[]; // ' ', '-', '+' prefixed
}

function stripPrefix(name: string): string | null {
  name = name.trim().replace(/\t.*$/, '');
  if (name.startsWith('"') && name.endsWith('"')) {
    name = JSON.parse(name) as string; // git's C quoting is JSON-compatible for common escapes
  }
  if (name === '/dev/null') {
    return null;
  }
  return name.startsWith('a/') || name.startsWith('b/') ? name.slice(2) : name;
}

/** The files of a git diff with their hunks. */
export function parsePatch(text: string): FilePatch[] {
  const files: FilePatch[] = [];
  let current: FilePatch | null = null;
  let hunk: Hunk | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = / b\/(.*)$/.exec(line);
      current = { path: m ? m[1] : '', oldPath: m ? m[1] : '', deleted: false, hunks: [] };
      files.push(current);
      hunk = null;
    } else if (!current) {
      continue;
    } else if (line.startsWith('--- ') && !hunk) {
      current.oldPath = stripPrefix(line.slice(4));
    } else if (line.startsWith('+++ ') && !hunk) {
      const p = stripPrefix(line.slice(4));
      current.deleted = p === null;
      if (p !== null) {
        current.path = p;
      }
    } else if (line.startsWith('rename to ')) {
      current.path = line.slice('rename to '.length);
    } else if (line.startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line);
      hunk = { oldStart: m ? Number(m[1]) : 1, lines: [] };
      current.hunks.push(hunk);
    } else if (hunk && (line.startsWith(' ') || line.startsWith('-') || line.startsWith('+'))) {
      hunk.lines.push(line);
    } else if (hunk && line.startsWith('\\')) {
      continue; // "\ No newline at end of file"
    }
  }
  return files;
}

/** `old` with `file`'s hunks applied (exact context, in order); throws when a hunk does not fit. */
export function applyFilePatch(old: string, file: FilePatch): string {
  if (file.deleted) {
    return '';
  }
  const eol = old.includes('\r\n') ? '\r\n' : '\n';
  const endsWithEol = old === '' || old.endsWith('\n');
  const source = old === '' ? [] : old.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  let at = 0; // next unread line of source, 0-based
  for (const hunk of file.hunks) {
    const start = Math.max(hunk.oldStart - 1, 0);
    const fromHere = hunk.lines.filter((l) => !l.startsWith('+')).length === 0 ? hunk.oldStart : start;
    while (at < fromHere && at < source.length) {
      out.push(source[at++]);
    }
    for (const line of hunk.lines) {
      const body = line.slice(1);
      if (line[0] === '+') {
        out.push(body);
        continue;
      }
      if (source[at] !== body) {
        throw new Error(`${file.path}: the patch does not fit line ${at + 1}`);
      }
      at++;
      if (line[0] === ' ') {
        out.push(body);
      }
    }
  }
  while (at < source.length) {
    out.push(source[at++]);
  }
  return out.join(eol) + (out.length && endsWithEol ? eol : '');
}
