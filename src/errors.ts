/** An error whose message is shown to the caller as is (runc's wording where callers match it). */
export class TsrunError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** runc's words for an ID with no container: a forced delete takes it as "nothing to do". */
export class NotFoundError extends TsrunError {
  constructor(id: string) {
    super(`container "${id}" does not exist`);
  }
}

/** Bad command-line usage: runc prints "Incorrect Usage." plus help, then the error. */
export class UsageError extends TsrunError {
  constructor(message: string, readonly command: string) {
    super(message);
  }
}
