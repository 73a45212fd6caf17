/// A request type with rules that decoding alone cannot check (exactly one of two fields, a
/// positive count). The router calls ``validate()`` after decoding and before the handler; a
/// failure becomes an `invalid_request` reply naming the rule.
public protocol IPCValidating {
    func validate() throws(IPCError)
}
