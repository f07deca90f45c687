// ScalarLowering: an elementwise op's scalar meaning (GraftIR's `ScalarExpression`) as LLVM
// instructions on one element.
//
// Values are `float` whatever their dtype (i32 as integral floats, as in the interpreter),
// except `bool`, which is an `i1` in registers. Each primitive is lowered to match the
// interpreter's evaluation of it (`ScalarExpression.evaluate`).

import GraftIR

extension LoopEmitter {
    /// Emits `expression` over the operand values `operands` (of dtypes `types`); returns the
    /// SSA name of the result.
    mutating func emit(_ expression: ScalarExpression, operands: [String], types: [DType]) -> String {
        func lower(_ e: ScalarExpression) -> String { emit(e, operands: operands, types: types) }
        switch expression {
        case .operand(let index):
            return operands[index]
        case .literal(let value, let dtype):
            let converted = ScalarExpression.converted(value, to: dtype)
            return dtype == .bool ? (converted != 0 ? "true" : "false") : LoopEmitter.literal(converted)
        case .function(let function, let x):
            let x = lower(x)
            switch function {
            case .neg: return assign("fneg float \(x)")
            case .abs: return intrinsic("fabs", x)
            case .exp: return intrinsic("exp", x)
            case .log: return intrinsic("log", x)
            case .sqrt: return intrinsic("sqrt", x)
            case .rsqrt: return assign("fdiv float 1.0, \(intrinsic("sqrt", x))")
            case .tanh:
                declarations.insert("declare float @tanhf(float)")
                return assign("call float @tanhf(float \(x))")
            }
        case .arithmetic(let op, let a, let b):
            let (a, b) = (lower(a), lower(b))
            let instruction = switch op {
            case .add: "fadd"
            case .sub: "fsub"
            case .mul: "fmul"
            case .div: "fdiv"
            }
            return assign("\(instruction) float \(a), \(b)")
        case .compare(let direction, let a, let b):
            let isBool = a.dtype(operands: types) == .bool
            let (x, y) = (lower(a), lower(b))
            if isBool {
                let predicate = ["eq": "eq", "ne": "ne", "lt": "ult", "le": "ule", "gt": "ugt", "ge": "uge"][direction.rawValue]!
                return assign("icmp \(predicate) i1 \(x), \(y)")
            }
            let predicate = ["eq": "oeq", "ne": "une", "lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge"][direction.rawValue]!
            return assign("fcmp \(predicate) float \(x), \(y)")
        case .select(let condition, let then, let otherwise):
            let type = then.dtype(operands: types) == .bool ? "i1" : "float"
            let (p, a, b) = (lower(condition), lower(then), lower(otherwise))
            return assign("select i1 \(p), \(type) \(a), \(type) \(b)")
        case .convert(let x, let from, let to):
            let x = lower(x)
            switch (from, to) {
            case (.bool, .bool), (.f32, .f32), (.i32, .i32), (.i32, .f32): return x
            case (.bool, .f32), (.bool, .i32): return assign("uitofp i1 \(x) to float")
            case (.f32, .bool), (.i32, .bool): return assign("fcmp une float \(x), 0.0")
            case (.f32, .i32):
                // Toward zero, saturating at the i32 range, NaN to 0 (ScalarExpression.converted).
                let truncated = intrinsic("trunc", x)
                let low = LoopEmitter.literal(-0x1p31), high = LoopEmitter.literal(ScalarExpression.largestI32)
                let below = assign("fcmp olt float \(truncated), \(low)")
                let raised = assign("select i1 \(below), float \(low), float \(truncated)")
                let above = assign("fcmp ogt float \(raised), \(high)")
                let clamped = assign("select i1 \(above), float \(high), float \(raised)")
                let isNaN = assign("fcmp uno float \(x), 0.0")
                return assign("select i1 \(isNaN), float 0.0, float \(clamped)")
            }
        }
    }
}
