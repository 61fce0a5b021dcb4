extension SendResult {
    /// The class of an attempt's outcome, the `outcome` label of `serve`'s attempt counter.
    public enum OutcomeClass: String, Sendable, CaseIterable {
        case success = "2xx"
        case redirect = "3xx"
        case clientError = "4xx"
        case serverError = "5xx"
        /// No response within the connect timeout or the attempt's deadline.
        case timeout
        /// Not sent: the address guard refused the endpoint's address.
        case blocked
        /// Anything else without an HTTP status: refused, reset, DNS, TLS; or a status outside
        /// 200–599.
        case error

        /// Classifies an attempt by its HTTP status, else by why it got none.
        public init(httpStatus: Int?, verdict: Verdict, timedOut: Bool) {
            switch httpStatus {
            case (200..<300)?: self = .success
            case (300..<400)?: self = .redirect
            case (400..<500)?: self = .clientError
            case (500..<600)?: self = .serverError
            case .some: self = .error
            case nil:
                // `.permanent` without a status is only ever the address guard's refusal.
                if verdict == .permanent {
                    self = .blocked
                } else if timedOut {
                    self = .timeout
                } else {
                    self = .error
                }
            }
        }
    }

    /// The class of this attempt's outcome.
    public var outcomeClass: OutcomeClass {
        OutcomeClass(httpStatus: httpStatus, verdict: verdict, timedOut: timedOut)
    }
}
