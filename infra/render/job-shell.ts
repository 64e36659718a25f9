/**
 * One shell line that waits (1 s apart) until `condition` holds, failing the job with `what` after
 * `seconds`: a job that waits forever hangs `pulumi up` instead of failing it.
 */
export function boundedWait(condition: string, what: string, seconds: number): string {
  return (
    `i=0; until ${condition}; do i=$((i + 1)); ` +
    `if [ "$i" -ge ${seconds} ]; then echo "${what} not reached within ${seconds} s" >&2; exit 1; fi; sleep 1; done`
  );
}
