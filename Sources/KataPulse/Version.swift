public enum KataPulseVersion { public static let string = "0.1.0" }
