import Foundation
import XCTest
@testable import LlamaData

/// CCNet's normalisation, line hashes and dedup against a Python transcription of cc_net.
final class CCNetDedupTests: XCTestCase {
    /// Documents with planted duplicate lines: differing only in case, digits (ASCII and
    /// Arabic-Indic), surrounding whitespace, cc_net's Unicode punctuation, accents.
    static let documents: [[String]] = [
        ["Hello World 2023!", "Café au lait", "«Quoted» text…", "  Trailing spaces\t", "", "ΟΔΟΣ Σίσυφος",
         "Price ٣٤ dollars", "Tab\tinside"],
        ["hello world 1999!", "CAFE AU LAIT", "„Quoted“ text", "Trailing spaces", "", "ΟΔΟΣ ΣΊΣΥΦΟΣ",
         "price 12 dollars", "Tabinside", "A new line"],
        ["HELLO WORLD 0000!", "a new line", "İstanbul ＡＢＣ １２ —dash— ｢x｣"],
        ["istanbul ＡＢＣ 00 —dash— ｢x｣", "Crème Brûlée", "CREME BRULEE"],
    ]

    /// cc_net's functions, transcribed from facebookresearch/cc_net `cc_net/text_normalizer.py`
    /// (UNICODE_PUNCT, strip_accents, NON_PRINTING_CHARS_RE, DIGIT_RE, normalize,
    /// normalize_for_dedup) and `cc_net/dedup.py` (str_hash / compute_hashes with HASH_TYPE =
    /// np.uint64, DuplicatesRemover(collect=True) + finalize_doc), statement by statement.
    static let python = functionsPython + dedupPython

    static let functionsPython = #"""
    import hashlib, json, re, sys, unicodedata
    import numpy as np

    UNICODE_PUNCT = {"，": ",", "。": ".", "、": ",", "„": '"', "”": '"', "“": '"', "«": '"', "»": '"', "１": '"',
        "」": '"', "「": '"', "《": '"', "》": '"', "´": "'", "∶": ":", "：": ":", "？": "?", "！": "!", "（": "(",
        "）": ")", "；": ";", "–": "-", "—": " - ", "．": ". ", "～": "~", "’": "'", "…": "...", "━": "-",
        "〈": "<", "〉": ">", "【": "[", "】": "]", "％": "%", "►": "-"}
    UNICODE_PUNCT_RE = re.compile(f"[{''.join(UNICODE_PUNCT.keys())}]")
    def replace_unicode_punct(text):
        return "".join((UNICODE_PUNCT.get(c, c) for c in text))
    def remove_unicode_punct(text):
        return UNICODE_PUNCT_RE.sub("", text)
    def strip_accents(line):
        nfd = unicodedata.normalize("NFD", line)
        output = [c for c in nfd if unicodedata.category(c) != "Mn"]
        if len(output) == line:
            return line
        return "".join(output)
    NON_PRINTING_CHARS_RE = re.compile(f"[{''.join(map(chr, list(range(0,32)) + list(range(127,160))))}]")
    DIGIT_RE = re.compile(r"\d")
    PUNCT_OR_NON_PRINTING_CHARS_RE = re.compile((UNICODE_PUNCT_RE.pattern + NON_PRINTING_CHARS_RE.pattern).replace("][", ""))
    def remove_non_printing_char(text):
        return NON_PRINTING_CHARS_RE.sub("", text)
    def normalize(line, accent=True, case=True, numbers=True, punct=1):
        line = line.strip()
        if not line:
            return line
        if case:
            line = line.lower()
        if accent:
            line = strip_accents(line)
        if numbers:
            line = DIGIT_RE.sub("0", line)
        if punct == 1:
            line = replace_unicode_punct(line)
        elif punct == 2:
            line = remove_unicode_punct(line)
        line = remove_non_printing_char(line)
        return line
    def normalize_for_dedup(line):
        line = line.strip()
        if not line:
            return line
        line = line.lower()
        line = DIGIT_RE.sub("0", line)
        line = PUNCT_OR_NON_PRINTING_CHARS_RE.sub("", line)
        return line
    HASH_TYPE = np.uint64
    HASH_SIZE = HASH_TYPE(0).nbytes
    def compute_hashes(content):
        lines = content.split("\n")
        hashes = np.fromiter((hashlib.sha1(bytes(normalize_for_dedup(l), encoding="utf-8")).digest()[:HASH_SIZE]
                              for l in lines), dtype=np.dtype((bytes, HASH_SIZE)), count=len(lines))
        return np.ndarray(dtype=HASH_TYPE, buffer=hashes.data, shape=hashes.shape)

    """#

    static let dedupPython = #"""
    docs = json.load(open(sys.argv[1], encoding="utf-8"))
    seen_all = set()   # the FlatHashSet of DuplicatesRemover(collect=True)
    result = {"normalize": [], "dedup": [], "hashes": [], "kept": []}
    for lines in docs:
        content = "\n".join(lines)
        doc_hashes = compute_hashes(content)
        contains = np.array([h in seen_all for h in doc_hashes.tolist()])   # add(): contains before adding
        seen_all.update(doc_hashes.tolist())
        keep = contains < True
        doc_hashes = doc_hashes * keep
        if keep.sum() == 0:
            result["kept"].append(None)
        else:
            seen, new_lines = set(), []   # finalize_doc
            for line, h in zip(lines, doc_hashes.tolist()):
                if h not in seen and h != 0:
                    new_lines.append(line)
                seen.add(h)
            result["kept"].append(new_lines)
        result["normalize"] += [normalize(l) for l in lines]
        result["dedup"] += [normalize_for_dedup(l) for l in lines]
        result["hashes"] += [str(h) for h in compute_hashes(content).tolist()]
    np.array(sorted(seen_all), dtype="<u8").tofile(sys.argv[2])
    print(json.dumps(result, ensure_ascii=False))
    """#

    func testNormalisationHashesAndKeptLinesEqualCCNet() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try JSONSerialization.data(withJSONObject: Self.documents).write(to: URL(fileURLWithPath: scratch + "/docs.json"))
        let output = try DataFixtures.runProgram("python3", ["-c", Self.python, scratch + "/docs.json", scratch + "/python.hashes"])
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let lines = Self.documents.flatMap { $0 }
        XCTAssertEqual(lines.map { CCNetNormalizer.normalize($0) }, reference["normalize"] as? [String])
        XCTAssertEqual(lines.map { CCNetNormalizer.normalizeForDedup($0, rule: .ccnet) }, reference["dedup"] as? [String])
        XCTAssertEqual(lines.map { String(CCNetNormalizer.lineHash($0, rule: .ccnet)) }, reference["hashes"] as? [String])

        let deduplicator = LineDeduplicator()
        var kept: [Any] = []
        for document in Self.documents {
            let indices = deduplicator.keep(hashes: document.map { CCNetNormalizer.lineHash($0, rule: .ccnet) })
            kept.append(indices.isEmpty ? NSNull() : indices.map { document[$0] } as Any)
        }
        let expectedKept = try XCTUnwrap(reference["kept"] as? [Any])
        XCTAssertEqual(kept.count, expectedKept.count)
        for (got, want) in zip(kept, expectedKept) {
            XCTAssertEqual(got as? [String], want as? [String])
            XCTAssertEqual(got is NSNull, want is NSNull)
        }
        // Hand-derived: the digits/case/punctuation/whitespace variants go, the accent variant stays
        // (normalize_for_dedup keeps accents), the third document loses every line but one.
        XCTAssertEqual(kept[1] as? [String], ["CAFE AU LAIT", "A new line"])
        XCTAssertEqual(kept[2] as? [String], ["İstanbul ＡＢＣ １２ —dash— ｢x｣"])

        // The saved hash set is byte for byte what numpy writes for the same set.
        let set = LineHashSet(lines.map { CCNetNormalizer.lineHash($0, rule: .ccnet) })
        try set.save(path: scratch + "/swift.hashes")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch + "/swift.hashes")),
                       try Data(contentsOf: URL(fileURLWithPath: scratch + "/python.hashes")))
        XCTAssertEqual(try LineHashSet.load(path: scratch + "/swift.hashes"), set)
    }

    /// The paper's normalisation (the default rule), derived by hand: lower case, digits → 0,
    /// accents (NFD marks: `İ` lowers to i + U+0307) and every Unicode punctuation mark (`«»„“…`,
    /// `—`, `｢｣`, ASCII `!`) removed, whitespace runs → one space; fullwidth letters are not
    /// punctuation and stay (lower-cased).
    func testPaperNormalisationAndDedupByHand() {
        let expected: [(String, String)] = [
            ("Hello World 2023!", "hello world 0000"), ("hello world 1999!", "hello world 0000"),
            ("Café au lait", "cafe au lait"), ("CAFE AU LAIT", "cafe au lait"),
            ("«Quoted» text…", "quoted text"), ("„Quoted“ text", "quoted text"),
            ("  Trailing spaces\t", "trailing spaces"), ("Tab\tinside", "tab inside"), ("Tabinside", "tabinside"),
            ("ΟΔΟΣ Σίσυφος", "οδος σισυφος"), ("ΟΔΟΣ ΣΊΣΥΦΟΣ", "οδος σισυφος"), ("Price ٣٤ dollars", "price 00 dollars"),
            ("İstanbul ＡＢＣ １２ —dash— ｢x｣", "istanbul ａｂｃ 00 dash x"), ("Crème Brûlée", "creme brulee"),
            ("a  -  b", "a b"), ("", ""), ("e-mail: x@y.org (see #3)", "email xyorg see 0"),
        ]
        for (line, normalized) in expected {
            XCTAssertEqual(CCNetNormalizer.normalizeForDedup(line), normalized, line)
        }
        // The planted documents: every variant of an earlier line goes, also the accent ones
        // (kept by cc_net's code); "Tab\tinside" and "Tabinside" differ by a space.
        let deduplicator = LineDeduplicator()
        let kept = Self.documents.map { document in
            deduplicator.keep(hashes: document.map { CCNetNormalizer.lineHash($0) }).map { document[$0] }
        }
        XCTAssertEqual(kept[0], Self.documents[0])
        XCTAssertEqual(kept[1], ["Tabinside", "A new line"])
        XCTAssertEqual(kept[2], ["İstanbul ＡＢＣ １２ —dash— ｢x｣"])
        XCTAssertEqual(kept[3], ["Crème Brûlée"])
    }

    func testHashSetFilesRejectDamage() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: scratch + "/short.hashes"))
        XCTAssertThrowsError(try LineHashSet.load(path: scratch + "/short.hashes")) { error in
            XCTAssertTrue("\(error)".contains("short.hashes"), "\(error)")
        }
        try Data([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: scratch + "/unsorted.hashes"))
        XCTAssertThrowsError(try LineHashSet.load(path: scratch + "/unsorted.hashes"))
        let union = LineHashSet.union([LineHashSet([5, 1, 5]), LineHashSet([3, 1])])
        XCTAssertEqual(union.hashes, [1, 3, 5])
        XCTAssertTrue(union.contains(3))
        XCTAssertFalse(union.contains(4))
    }

    func testSHA1AndBase32MatchKnownDigests() {
        // FIPS 180-4 example "abc" and RFC 4648's base32 test vector "foobar".
        XCTAssertEqual(SHA1.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined(),
                       "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.digest(Array("".utf8)).map { String(format: "%02x", $0) }.joined(),
                       "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.base32(Array("foobar".utf8)), "MZXW6YTBOI======")
    }
}
