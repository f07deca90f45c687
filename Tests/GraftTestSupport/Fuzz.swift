// Fuzz: seeded, bounded mutation of bytes, text and values for the property tests that feed
// Graft bad inputs; `make fuzz` runs the same tests with many more cases.
//
// Every campaign prints its seed first, so any failure (a crash included) is reproduced by
// running the test again with GRAFT_FUZZ_SEED=<seed>; GRAFT_FUZZ_CASES sets the number of cases.

import Foundation
import GraftIR

/// The fuzz campaigns' deterministic random stream: GraftIR's SplitMix64.
public typealias FuzzRandom = SplitMix64

/// One fuzz campaign: a name, a seed and a number of cases, each with its own random stream.
public struct FuzzCampaign: Sendable {
    public let name: String
    public let seed: UInt64
    public let cases: Int

    /// The seed and case count come from GRAFT_FUZZ_SEED and GRAFT_FUZZ_CASES when set
    /// (GRAFT_FUZZ_CASES multiplies `defaultCases` by itself divided by 100 for every campaign
    /// at once: 100 is the default, 10000 a hundred times more).
    public init(_ name: String, defaultCases: Int, seed defaultSeed: UInt64 = 20_261_204) {
        let environment = ProcessInfo.processInfo.environment
        self.name = name
        seed = environment["GRAFT_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
        let scale = environment["GRAFT_FUZZ_CASES"].flatMap { Int($0) }.map { max($0, 1) } ?? 100
        cases = max(1, defaultCases * scale / 100)
        FileHandle.standardError.write(Data("fuzz \(name): seed \(seed), \(cases) cases (GRAFT_FUZZ_SEED=\(seed) repeats them)\n".utf8))
    }

    /// The random stream of case `index`.
    public func random(_ index: Int) -> FuzzRandom {
        var mixer = FuzzRandom(seed: seed ^ UInt64(index) &* 0x2545_f491_4f6c_dd1d)
        return FuzzRandom(seed: mixer.next())
    }

    /// Prints how the cases ended (`["refused": 310, "accepted": 90]`), to show what the
    /// campaign reached.
    public func report(_ outcomes: [String: Int]) {
        let text = outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data("fuzz \(name): \(text)\n".utf8))
    }

    /// How to name case `index` in a failure.
    public func label(_ index: Int) -> String { "fuzz \(name) seed \(seed) case \(index) (rerun with GRAFT_FUZZ_SEED=\(seed))" }
}

/// Mutations that keep most of an input intact, so it gets past the first checks.
public enum Mutate {
    /// Numbers that break arithmetic: zero, signs, powers of two around word sizes, specials.
    public static let numbers = ["0", "-1", "1", "2", "-0", "255", "256", "65535", "65536", "2147483647", "2147483648",
                                 "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                                 "18446744073709551616", "1e308", "-1e308", "inf", "-inf", "nan", "0.5", "1.5", "1e-300",
                                 "4611686018427387904", "68719476736", "3"]

    /// One random mutation of `bytes`: a bit flip, a byte set to 0, 0xff or 0x80, a byte
    /// inserted or removed, the file cut short, or a chunk repeated.
    public static func bytes(_ bytes: [UInt8], _ random: inout FuzzRandom, protecting prefix: Int = 0) -> [UInt8] {
        var result = bytes
        guard result.count > prefix else { return result + [UInt8.random(in: 0...255, using: &random)] }
        let at = Int.random(in: prefix..<result.count, using: &random)
        switch Int.random(in: 0..<7, using: &random) {
        case 0: result[at] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1: result[at] = [0, 0xff, 0x80, 0x7f, 1].randomElement(using: &random)!
        case 2: result.insert(UInt8.random(in: 0...255, using: &random), at: at)
        case 3: result.remove(at: at)
        case 4: result = Array(result.prefix(at))
        case 5:
            let end = min(result.count, at + Int.random(in: 1...16, using: &random))
            result.insert(contentsOf: result[at..<end], at: at)
        default: result[at] = UInt8.random(in: 0...255, using: &random)
        }
        return result
    }

    /// One random mutation of `text`: a number replaced by another, a word by one of `words`,
    /// a line removed or repeated, a character removed or inserted.
    public static func text(_ text: String, words: [String], _ random: inout FuzzRandom) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        let line = Int.random(in: 0..<lines.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0, 1:
            // Replace a number (or, failing that, a word) on the line.
            var tokens = lines[line].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !tokens.isEmpty else { break }
            let index = Int.random(in: 0..<tokens.count, using: &random)
            tokens[index] = tokens[index].replacingFirstNumber(with: numbers.randomElement(using: &random)!)
            lines[line] = tokens.joined(separator: " ")
        case 2:
            var tokens = lines[line].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !tokens.isEmpty, let word = words.randomElement(using: &random) else { break }
            tokens[Int.random(in: 0..<tokens.count, using: &random)] = word
            lines[line] = tokens.joined(separator: " ")
        case 3: lines.remove(at: line)
        case 4: lines.insert(lines[line], at: line)
        default:
            var characters = Array(lines[line])
            guard !characters.isEmpty else { break }
            let at = Int.random(in: 0..<characters.count, using: &random)
            if Bool.random(using: &random) { characters.remove(at: at) } else {
                characters.insert(Array("%@[](),:{}=-0123456789 ").randomElement(using: &random)!, at: at)
            }
            lines[line] = String(characters)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string with its first run of digits replaced by `number` (or `number` itself when
    /// it has none).
    func replacingFirstNumber(with number: String) -> String {
        guard let start = firstIndex(where: \.isNumber) else { return number }
        let end = self[start...].firstIndex { !$0.isNumber } ?? endIndex
        return String(self[..<start]) + number + String(self[end...])
    }
}

/// Runs `executable` under `timeout` (seconds): status 124 means it hung.
public func runProgram(_ executable: URL, _ arguments: [String], timeout seconds: Int) throws -> ProgramResult {
    try runProgram(URL(fileURLWithPath: "/usr/bin/timeout"), ["-s", "KILL", "\(seconds)", executable.path] + arguments)
}
