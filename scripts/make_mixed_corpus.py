#!/usr/bin/env python3
"""Writes Tests/Fixtures/sentencepiece/mixed_corpus.txt, the cross-check corpus of the
tokenizer tests: English prose, source code, numbers, Korean, Japanese, Chinese, emoji,
NFKC-sensitive characters, control characters, whitespace runs, empty lines, literal
meta pieces and malformed UTF-8. Lines are separated by '\n'; the file is bytes, not text.

Usage: scripts/make_mixed_corpus.py <botchan.txt> <kjv_verses.txt> <output>
"""
import random
import sys

botchan_path, kjv_path, output_path = sys.argv[1:4]
random.seed(20261126)
botchan = [l for l in open(botchan_path, 'rb').read().split(b'\n') if l.strip()]
kjv = open(kjv_path, 'rb').read().split(b'\n')[:-1]
lines = []
lines += random.sample(botchan, 60)
lines += random.sample(kjv, 60)
code = r'''import Foundation
func encode(_ text: String, addBOS: Bool = false) -> [Int32] {
    let ids = text.utf8.map { Int32($0) }  // bytes
    return addBOS ? [1] + ids : ids
}
def train(path, vocab_size=8000, **kwargs):
    with open(path, "rb") as f:
        return {k: v for k, v in kwargs.items() if v is not None}
#include <stdio.h>
int main(int argc, char **argv) { printf("%d\n", argc); return 0; }
for (size_t i = 0; i < n; ++i) { sum += a[i] * b[i]; }
SELECT id, name FROM users WHERE age >= 21 AND name LIKE '%son';
<div class="main"><a href="https://example.com/path?q=1&r=2">link</a></div>
x = [i**2 for i in range(10) if i % 3 == 0]; print(f"{x!r:>20}")
const f = async (a, b) => { await g(a ?? b); return a?.c || 0x1F; };'''.split('\n')
lines += [l.encode('utf-8') for l in code]
text = [
    "3.14159 2,718,281 1e-10 0x1F 0b1011 2026-11-26 12:34:56 +1 (555) 123-4567",
    "Version 10.2.3 build 4567890123456789 costs $1,234.56 or €99,99 (-17%)",
    "1234567890 0987654321 ١٢٣ ０１２３ ①②③ ½ ¼ 10⁶ x²",
    "한국어 텍스트를 토큰화합니다. 안녕하세요, 세계!",
    "日本語のテキストです。東京都渋谷区、カタカナ・ひらがな混じり。ｶﾀｶﾅ半角",
    "中文文本测试：你好，世界！繁體中文測試。",
    "Emoji: 😀😃🎉 👍🏽 👨‍👩‍👧‍👦 🇯🇵🇺🇸 ❤️ ⭐",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ ａｂｃ ligatures ﬁ ﬂ ﬀ Å Å é é",
    "Ελληνικά κείμενα, русский текст, עברית, العربية, हिन्दी",
    "   leading spaces",
    "trailing spaces     ",
    "a    b\t\tc \t d",
    "\tstarts with a tab",
    "ideographic\u3000space and\u00a0no-break\u2009thin",
    "   ",
    "\t",
    "literal <s> and </s> and <unk> and <0x41> and <pad>",
    "▁already▁escaped▁ text ▁",
    "control \x01\x02 chars \x7f and zero\x00width\u200bspace\u200d",
    "Mixed: The 3 quick brown 🦊 jumped over 2 lazy 🐕s in 東京 at 10:30am.",
    "x" * 300,
    "supercalifragilisticexpialidocious antidisestablishmentarianism " * 8,
]
lines += [l.encode('utf-8') for l in text]
lines += [b'', b'', b' ']
lines += [
    b'invalid \xff\xfe bytes',
    b'truncated \xe3\x81 sequence',
    b'overlong \xc0\xaf and \xe0\x80\xaf',
    b'surrogate \xed\xa0\x80 half',
    b'lone continuation \x80\x80 bytes',
    b'\xf5\x80\x80\x80 beyond U+10FFFF',
    b'\xe6\x97\xa5\xe6\x9c',
    b'caf\xe9 latin-1',
]
random.shuffle(lines)
with open(output_path, 'wb') as f:
    f.write(b'\n'.join(lines) + b'\n')
print(len(lines), 'lines')
