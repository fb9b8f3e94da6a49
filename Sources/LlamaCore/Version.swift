public enum CoreVersion { public static let string = "0.1.0" }
