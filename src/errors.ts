/** An error whose message is shown to the caller as is (runc's wording where callers match it). */
export class TsrunError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Bad command-line usage: runc prints "Incorrect Usage." plus help, then the error. */
export class UsageError extends TsrunError {
  constructor(message: string, readonly command: string) {
    super(message);
  }
}
