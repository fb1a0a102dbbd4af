// The documentation's relative links, checked offline over marked's token tree: every link and
// image in README.md, CONTRIBUTING.md (when present) and docs/*.md that points into the repository
// must name a file or directory that exists, and every #anchor (same file or `file.md#anchor`)
// must be a heading of the target file under GitHub's slug rules. External links are not fetched.
// And the README's Quick start shows exactly the two commands that CI (.ci/run) runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// marked 4 ships no type declarations: the little of its token tree read here.
interface Token {
  type: string;
  raw?: string;
  text?: string;
  href?: string;
  depth?: number;
  lang?: string;
  tokens?: Token[];
  items?: Token[];
  header?: Token[];
  rows?: Token[][];
}
const { marked } = require('marked') as { marked: { lexer(src: string): Token[] } };

const ROOT = path.resolve(__dirname, '..');

/** Every token of the tree, depth first, nested ones included (inline tokens, list items, table cells). */
function* walk(tokens: Token[]): Generator<Token> {
  for (const t of tokens) {
    yield t;
    if (t.tokens) yield* walk(t.tokens);
    if (t.items) yield* walk(t.items);
    if (t.header) yield* walk(t.header);
    if (t.rows) for (const row of t.rows) yield* walk(row);
  }
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]);

/** A heading's text as GitHub renders it: inline markup dropped, code spans and link texts kept. */
function plainText(tokens: Token[]): string {
  return tokens.map((t) => {
    if (t.type === 'html') return '';
    if (t.tokens) return plainText(t.tokens);
    return unescapeHtml(t.text ?? '');
  }).join('');
}

/** GitHub's heading anchor (github-slugger): lowercase, punctuation dropped except `-` and `_`, each space a `-`. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a markdown text defines: its headings' slugs (a repeated one gets -1, -2, …), plus HTML `id`/`name`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const t of walk(marked.lexer(markdown))) {
    if (t.type === 'heading') {
      const base = slug(plainText(t.tokens ?? []));
      let s = base;
      if (seen.has(base)) {
        let n = seen.get(base)!;
        do s = `${base}-${++n}`; while (seen.has(s));
        seen.set(base, n);
      }
      seen.set(s, 0);
      anchors.add(s);
    } else if (t.type === 'html') {
      for (const m of (t.text ?? '').matchAll(/\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1]);
    }
  }
  return anchors;
}

/** Every link and image target of a markdown text, with its text for the report. */
function linksOf(markdown: string): { href: string; text: string }[] {
  return [...walk(marked.lexer(markdown))]
    .filter((t) => (t.type === 'link' || t.type === 'image') && t.href !== undefined)
    .map((t) => ({ href: t.href!, text: t.text ?? '' }));
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i; // http:, https:, mailto:, …

/** What is wrong with the relative links of one markdown file in repository `root` (empty: nothing). */
export function brokenLinks(file: string, root: string): string[] {
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (f: string) => {
    if (!anchorCache.has(f)) anchorCache.set(f, anchorsOf(fs.readFileSync(f, 'utf8')));
    return anchorCache.get(f)!;
  };
  const rel = path.relative(root, file);
  const problems: string[] = [];
  for (const { href, text } of linksOf(fs.readFileSync(file, 'utf8'))) {
    if (EXTERNAL.test(href) || href.startsWith('//')) continue;
    const hash = href.indexOf('#');
    const target = decodeURI(hash < 0 ? href : href.slice(0, hash)).replace(/\?.*$/, '');
    const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
    const where = `${rel}: [${text}](${href})`;
    let resolved = file;
    if (target !== '') {
      resolved = target.startsWith('/') ? path.join(root, target) : path.resolve(path.dirname(file), target);
      if (path.relative(root, resolved).startsWith('..')) { problems.push(`${where}: outside the repository`); continue; }
      if (!fs.existsSync(resolved)) { problems.push(`${where}: ${path.relative(root, resolved)} does not exist`); continue; }
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith('.md')) {
      if (!/^L\d+(-L\d+)?$/.test(anchor)) problems.push(`${where}: an anchor into a file that is not markdown`);
      continue;
    }
    if (fs.statSync(resolved).isDirectory() || !anchors(resolved).has(anchor)) {
      problems.push(`${where}: no heading #${anchor} in ${path.relative(root, resolved)}`);
    }
  }
  return problems;
}

/** README.md, CONTRIBUTING.md when present, and every docs/*.md. */
function documentation(): string[] {
  const top = ['README.md', 'CONTRIBUTING.md'].map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f));
  const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(ROOT, 'docs', f));
  return [...top, ...docs];
}

/** The commands of the fenced block under the README's "Quick start" heading, comments dropped. */
function quickStartCommands(readme: string): string[] {
  const tokens = marked.lexer(readme);
  const start = tokens.findIndex((t) => t.type === 'heading' && plainText(t.tokens ?? []) === 'Quick start');
  expect(start).toBeGreaterThanOrEqual(0);
  const section = tokens.slice(start + 1);
  const end = section.findIndex((t) => t.type === 'heading' && (t.depth ?? 9) <= 2);
  const code = section.slice(0, end < 0 ? undefined : end).filter((t) => t.type === 'code');
  expect(code).toHaveLength(1);
  return (code[0].text ?? '').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The commands .ci/run runs: its lines that are not comments or shell setup, without leading VAR=value assignments. */
function ciCommands(script: string): string[] {
  return script.split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !/^(set|cd|export)\s/.test(l))
    .map((l) => l.replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|'[^']*'|\S*)\s+)+/, ''));
}

describe('documentation', () => {
  const files = documentation();

  test('README.md and the guides in docs/ are there', () => {
    expect(files.map((f) => path.relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'docs/reliability.md']));
  });

  test.each(files.map((f) => [path.relative(ROOT, f), f]))('%s: every relative link and anchor resolves', (_name, file) => {
    expect(brokenLinks(file, ROOT)).toEqual([]);
  });

  test("the Quick start's two commands are the ones CI runs (.ci/run)", () => {
    const quick = quickStartCommands(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const ci = ciCommands(fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8'));
    expect(quick).toEqual(['npm run quickstart', 'npm test']);
    expect(ci.slice(0, 2)).toEqual(quick); // in the same order, on a clean clone
    expect([...new Set(ci)]).toEqual(quick); // and nothing else (the rerun on Node.js 24 is `npm test` again)
  });
});

describe('the link checker', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-docs-'));
  const write = (f: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  };
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("slugs follow GitHub's rules, duplicates numbered", () => {
    expect(slug('Node tokens without a human: login with a JWT')).toBe('node-tokens-without-a-human-login-with-a-jwt');
    expect(slug('From CDK Terrain (cdktn)')).toBe('from-cdk-terrain-cdktn');
    expect(slug('The `meshx-node run` flags & exit_codes')).toBe('the-meshx-node-run-flags--exit_codes');
    expect([...anchorsOf('# A `b.c` & [d](x.md)\n\n## Limits\n\n## Limits\n\nLimits\n---\n\n<a id="raw"></a>\n')])
      .toEqual(['a-bc--d', 'limits', 'limits-1', 'limits-2', 'raw']);
  });

  test('finds a missing file, a missing anchor (here and in another file), and passes good links', () => {
    write('docs/guide.md', '# Guide\n\n## Exit codes\n');
    write('examples/x/stack.ts', '');
    write('README.md', [
      '# Top', '',
      '- [ok](docs/guide.md#exit-codes), [ok](#top), [dir](examples/x), [ts](examples/x/stack.ts#L1), [web](https://example.invalid/#nope)',
      '- [in a list](docs/missing.md)', '',
      '| a |', '|---|', '| [in a table](docs/guide.md#exit-code) |', '',
      '![image](docs/none.svg) and [here](#nowhere)', '',
    ].join('\n'));
    expect(brokenLinks(path.join(root, 'README.md'), root)).toEqual([
      'README.md: [in a list](docs/missing.md): docs/missing.md does not exist',
      'README.md: [in a table](docs/guide.md#exit-code): no heading #exit-code in docs/guide.md',
      'README.md: [image](docs/none.svg): docs/none.svg does not exist',
      'README.md: [here](#nowhere): no heading #nowhere in README.md',
    ]);
    write('docs/back.md', '[up](../README.md#top) [stale](README.md)\n');
    expect(brokenLinks(path.join(root, 'docs/back.md'), root)).toEqual(['docs/back.md: [stale](README.md): docs/README.md does not exist']);
  });

  test('reads the Quick start and .ci/run as commands', () => {
    const readme = '# X\n\n## Quick start\n\n```sh\nnpm run a   # one\n\nnpm b\n```\n\n## Next\n\n```sh\nc\n```\n';
    expect(quickStartCommands(readme)).toEqual(['npm run a', 'npm b']);
    expect(ciCommands('#!/bin/bash\nset -e\ncd "$x"\nexport A=1\n\nnpm run a\nPATH="/o:$PATH" B=2 npm b\n')).toEqual(['npm run a', 'npm b']);
  });
});
