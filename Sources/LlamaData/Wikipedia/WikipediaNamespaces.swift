/// Namespace names of files (namespace 6) and categories (namespace 14) in the 20
/// Wikipedias LLaMA used (bg, ca, cs, da, de, en, es, fr, hr, hu, it, nl, pl, pt, ro, ru,
/// sl, sr, sv, uk), with their common aliases, from each wiki's MediaWiki language file
/// (`languages/messages/Messages*.php`, `$namespaceNames` and `$namespaceAliases`). A dump's
/// own `<siteinfo><namespaces>` adds to these at read time.
public enum WikipediaNamespaces {
    /// The paper's languages.
    public static let languages = ["bg", "ca", "cs", "da", "de", "en", "es", "fr", "hr", "hu", "it", "nl", "pl", "pt",
                                   "ro", "ru", "sl", "sr", "sv", "uk"]

    /// File (and the older Image, and Media) namespace names per language, lower case.
    public static let fileNames: [String: [String]] = [
        "en": ["file", "image", "media"], "bg": ["файл", "картинка", "изображение", "медия"],
        "ca": ["fitxer", "imatge", "multimèdia"], "cs": ["soubor", "obrázek", "média"],
        "da": ["fil", "billede", "medie"], "de": ["datei", "bild", "medium"],
        "es": ["archivo", "imagen", "medio"], "fr": ["fichier", "image", "média"],
        "hr": ["datoteka", "slika", "mediji"], "hu": ["fájl", "kép", "média"],
        "it": ["file", "immagine", "media"], "nl": ["bestand", "afbeelding", "media"],
        "pl": ["plik", "grafika", "media"], "pt": ["ficheiro", "arquivo", "imagem", "multimédia"],
        "ro": ["fișier", "fişier", "imagine", "media"], "ru": ["файл", "изображение", "медиа"],
        "sl": ["slika", "datoteka", "media"], "sr": ["датотека", "слика", "медиј", "datoteka", "slika", "medij"],
        "sv": ["fil", "bild", "media"], "uk": ["файл", "зображення", "медіа"],
    ]

    /// Category namespace names per language, lower case.
    public static let categoryNames: [String: [String]] = [
        "en": ["category"], "bg": ["категория"], "ca": ["categoria"], "cs": ["kategorie"], "da": ["kategori"],
        "de": ["kategorie"], "es": ["categoría"], "fr": ["catégorie"], "hr": ["kategorija"], "hu": ["kategória"],
        "it": ["categoria"], "nl": ["categorie"], "pl": ["kategoria"], "pt": ["categoria"], "ro": ["categorie"],
        "ru": ["категория"], "sl": ["kategorija"], "sr": ["категорија", "kategorija"], "sv": ["kategori"],
        "uk": ["категорія"],
    ]

    /// Every file and category name of every language (links are removed in any of them,
    /// since wikis accept the English names too and names rarely collide with articles).
    public static let fileAndCategoryNames: Set<String> = {
        var names: Set<String> = []
        for list in fileNames.values { names.formUnion(list) }
        for list in categoryNames.values { names.formUnion(list) }
        return names
    }()

    /// True for an interlanguage prefix: two or three lower-case ASCII letters, optionally
    /// followed by `-` and more letters (`de`, `als`, `zh-yue`, `be-tarask`), or `simple`.
    public static func isLanguageCode(_ prefix: String) -> Bool {
        if prefix == "simple" { return true }
        let parts = prefix.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count) else { return false }
        return parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}
