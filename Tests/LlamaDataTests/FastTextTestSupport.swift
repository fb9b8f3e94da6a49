import Foundation
import LlamaCore
import XCTest

/// Generated multilingual labelled text and the python `fasttext` package as the reference.
enum FastTextReference {
    /// Small vocabularies written for these tests (common words of each language).
    static let vocabularies: [String: [String]] = [
        "en": "the of and to in is was that for it with as his on be at by this had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three".components(separatedBy: " "),
        "fr": "le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas que vous par sur faire plus dire me on mon lui nous comme mais pouvoir avec tout y aller voir en bien où sans tu ou leur homme si deux mari moi vouloir te femme venir quand grand celui notre devoir là jour prendre même votre rien petit encore aussi quelque dont tout mer trouver donner temps ça peu même falloir sous parler alors main chose".components(separatedBy: " "),
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei prozent hatte kann gegen vom können schon wenn habe seine mark ihre dann unter wir soll ich eines jahr zwei jahren diese dieser wieder keine uhr seiner worden und größer straße".components(separatedBy: " "),
        "es": "de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros niño año".components(separatedBy: " "),
        "ru": "и в не на я быть он с что а по это она этот к но они мы как из у который то за свой что весь год от так о для ты же все тот мочь вы человек такой его сказать только или ещё бы себя один как уже до время если сам когда другой вот говорить наш мой знать стать при чтобы дело жизнь кто первый очень два день её новый рука даже во со раз где там под можно ну какой после их работа без самый потом надо хотеть ли слово идти".components(separatedBy: " "),
        "el": "και το να του η της με που τα την στο σε για ο οι από θα τον των δεν είναι στην ένα τους μια στη στα ότι ως αλλά μας όπως πιο τη μου μετά έχει ήταν κατά αυτό στον επίσης όταν ή πολύ ενώ όλα χωρίς δύο αυτή εκεί τι πριν έως μόνο ακόμη όμως αν σας καθώς γιατί τώρα εδώ οποία λόγω".components(separatedBy: " "),
    ]

    static var languages: [String] { vocabularies.keys.sorted() }

    /// `count` lines "__label__xx w1 w2 …" of 3–12 words, 15% borrowed from other languages.
    static func labelledLines(count: Int, seed: UInt64) -> [(language: String, text: String)] {
        var generator = SeededGenerator(seed: seed)
        let languages = self.languages
        return (0..<count).map { _ in
            let language = languages[generator.nextInt(below: languages.count)]
            let length = 3 + generator.nextInt(below: 10)
            let words = (0..<length).map { _ -> String in
                var source = language
                if generator.nextInt(below: 100) < 15 { source = languages[generator.nextInt(below: languages.count)] }
                let vocabulary = vocabularies[source] ?? []
                var word = vocabulary[generator.nextInt(below: vocabulary.count)]
                if generator.nextInt(below: 10) == 0 { word = word.capitalized }
                return word
            }
            return (language, words.joined(separator: " "))
        }
    }

    static func trainingText(_ lines: [(language: String, text: String)]) -> String {
        lines.map { "__label__\($0.language) \($0.text)\n" }.joined()
    }

    /// Lines for prediction checks: generated text plus unicode, empty, whitespace-only,
    /// very long, label-like, `</s>`-containing and out-of-vocabulary lines.
    static func predictionLines(seed: UInt64) -> [String] {
        var lines = labelledLines(count: 150, seed: seed).map(\.text)
        let long = labelledLines(count: 200, seed: seed + 1).map(\.text).joined(separator: " ")
        lines += ["", "   ", "\t", long, "zzqx qqxz", "naïve café Zürich straße ñandú", "日本語のテキスト 中文 한국어",
                  "emoji 😀🎉 text", "__label__en the of and", "der die </s> und the", "a\rb\u{0B}c\u{0C}d",
                  "Ω≈ç√∫ ŁódźÄÖÜ", String(repeating: "x", count: 3000), "ünïcödé wörds ärë hërë", "и в не на",
                  "το να του", "   the   of   and   "]
        return lines
    }

    /// Runs `script` with python3 (arguments after it, `input` on stdin); skips the test when
    /// python3 or the fasttext package is missing.
    static func python(_ script: String, _ arguments: [String], input: String = "") throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if errors.contains("No module named 'fasttext'") { throw XCTSkip("python fasttext is not installed") }
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "python", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "python failed: \(errors)"])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Python: train_supervised(train, **options), optionally quantize(**quantize), save to
    /// `model`, then print for each stdin line (JSON list of strings) fasttext's predict(k, threshold).
    static let trainAndPredictScript = """
        import sys, json, fasttext
        train, model, options, quantize, k, threshold = sys.argv[1:7]
        if train:
            # fastText 0.9.2's DenseMatrix::uniform fills (rows*dim)/10 values per thread and
            # leaves the rest uninitialised with fewer than 11 threads (NaN at random).
            options = json.loads(options)
            options.setdefault("thread", 11)
            m = fasttext.train_supervised(input=train, verbose=0, **options)
            if quantize:
                m.quantize(input=train, verbose=0, **json.loads(quantize))
            m.save_model(model)
        else:
            m = fasttext.load_model(model)
        results = []
        for line in json.loads(sys.stdin.read()):
            labels, probs = m.predict(line, k=int(k), threshold=float(threshold))
            results.append([list(labels), [float(p) for p in probs]])
        print(json.dumps(results))
        """

    /// fasttext's predictions of `lines` with a model it trains (or loads, when `train` is empty).
    static func referencePredictions(train: String, model: String, options: String, quantize: String = "",
                                     lines: [String], k: Int, threshold: Float) throws -> [[(String, Float)]] {
        let input = String(decoding: try JSONSerialization.data(withJSONObject: lines), as: UTF8.self)
        let output = try python(trainAndPredictScript, [train, model, options, quantize, String(k), String(threshold)],
                                input: input)
        guard let results = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]] else {
            throw NSError(domain: "python", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad output \(output)"])
        }
        return results.map { pair in
            let labels = pair[0] as? [String] ?? []
            let probabilities = (pair[1] as? [Double] ?? []).map(Float.init)
            return Array(zip(labels, probabilities))
        }
    }
}
