import type { HostPort } from "../topology";

/** Where the MariaDB jobs mount the credentials volume: a folder the mariadb image gives its mysql user. */
export const CREDENTIALS_DIR = "/var/lib/mysql-credentials";

/**
 * The volume (Docker) or claim (Kubernetes) holding the root password the bootstrap job last applied
 * (and the one before).
 */
export const CREDENTIALS_VOLUME = "mysql-credentials";

/** A shell condition: the server answers SHOW SLAVE STATUS, with nothing (a failed query is false). */
export function followsNobody(server: HostPort): string {
  return `status=$(mariadb --no-defaults -h ${server.host} -P ${server.port} -uroot -e 'SHOW SLAVE STATUS') && [ -z "$status" ]`;
}

/** What one MariaDB job does once logged in as root. */
export interface MysqlJobSteps {
  /** The server it works on. */
  server: HostPort;
  /** The SQL file it runs (uploaded, secret). */
  sqlFile: string;
  /** A shell condition: run `sqlFile` only when it holds; default always. */
  onlyIf?: string;
  /**
   * Otherwise (a replica that already follows the primary): re-point its replication credentials
   * from REPLICATION_USER / REPLICATION_PASSWORD, keeping its GTID position.
   */
  otherwiseRepointReplication?: boolean;
  /** Apply the configured root password (MYSQL_PWD) to root itself, then record it: the bootstrap job. */
  applyRootPassword?: boolean;
  /** Where the credentials volume is mounted; default CREDENTIALS_DIR. */
  credentialsDir?: string;
  /** How long to wait for the server to answer at all; default 180 s. */
  waitSeconds?: number;
}

// A SQL string's body from a shell variable: backslashes and quotes escaped as sqlString does.
const sqlEscaped = (variable: string) => `$(printf '%s' "$${variable}" | sed -e 's/\\\\/\\\\\\\\/g' -e "s/'/''/g")`;

/**
 * The shell a MariaDB job runs (sh from the mariadb image). It logs in as root with the configured
 * password (MYSQL_PWD) or — while a rotation is under way — with the root password the bootstrap
 * job last applied, kept on the credentials volume: the image's entry point applies
 * MARIADB_ROOT_PASSWORD only when it initialises an empty datadir, so after a rotation the server
 * still has the old one until this job changes it in place. Nothing waits forever: a server that
 * never answers or refuses every password fails the job (and `pulumi up`) with the reason.
 * Passwords travel in the environment and on stdin, never in argv; of the client's output only
 * its ERROR lines are shown, without the statement they quote, as it may hold one.
 */
export function mysqlJobScript(steps: MysqlJobSteps): string {
  const { host, port } = steps.server;
  const dir = steps.credentialsDir ?? CREDENTIALS_DIR;
  const tries = Math.ceil((steps.waitSeconds ?? 180) / 2);
  const at = `${host}:${port}`;
  const lines = [
    "umask 077",
    `server="-h ${host} -P ${port} -uroot"`,
    // Check: the server answers at all ("access denied" is an answer).
    "i=0",
    `until mariadb-admin --no-defaults --connect-timeout=2 $server ping >/dev/null 2>&1; do`,
    `  i=$((i + 1)); if [ "$i" -ge ${tries} ]; then echo "${at} did not answer within ${tries * 2} s" >&2; exit 1; fi`,
    "  sleep 2",
    "done",
    // Log in: the configured root password, else the last applied one, else the one before it.
    'configured="$MYSQL_PWD"',
    `login() { MYSQL_PWD="$1" mariadb --no-defaults $server -e 'SELECT 1' >/dev/null 2>&1; }`,
    'if ! login "$configured"; then',
    "  found=",
    `  for f in ${dir}/mysql-root ${dir}/mysql-root.previous; do`,
    '    if [ -s "$f" ] && login "$(cat "$f")"; then MYSQL_PWD="$(cat "$f")"; found="$f"; break; fi',
    "  done",
    '  if [ -z "$found" ]; then',
    `    echo "root login to ${at} refused with the configured password and with every one recorded in ${dir}: set mysqlRootPassword back to the server's, or apply it there by hand (ALTER USER), then run pulumi up again" >&2`,
    "    exit 1",
    "  fi",
    '  echo "root logged in to ' + at + ' with the password recorded in $found: the configured one is not applied yet"',
    "fi",
    "export MYSQL_PWD",
    // Apply, keeping the client's exit code but only its ERROR lines: on an error the client also
    // echoes the failing statement, and a SQL error quotes it (`near '…'`).
    "run() {",
    "  mariadb --no-defaults $server >/tmp/sql-output 2>&1; rc=$?",
    `  grep '^ERROR' /tmp/sql-output | sed "s/ near '.*/ near (the statement is not shown: it may hold a password)/" >&2`,
    "  return $rc",
    "}",
    `if ${steps.onlyIf ?? "true"}; then`,
    `  run < ${steps.sqlFile} || exit 1`,
  ];
  if (steps.otherwiseRepointReplication) {
    lines.push(
      "else",
      `  printf "STOP SLAVE;\\nCHANGE MASTER TO MASTER_USER = '%s', MASTER_PASSWORD = '%s';\\nSTART SLAVE;\\n" "${sqlEscaped("REPLICATION_USER")}" "${sqlEscaped("REPLICATION_PASSWORD")}" | run || exit 1`,
      '  echo "replication credentials re-applied"',
    );
  }
  lines.push("fi");
  if (steps.applyRootPassword) {
    lines.push(
      // Root's own password last (binlogged: the replicas follow), then recorded for the next rotation.
      `esc="${sqlEscaped("configured")}"`,
      `printf "ALTER USER IF EXISTS 'root'@'%%' IDENTIFIED BY '%s';\\nALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED BY '%s';\\n" "$esc" "$esc" | run || exit 1`,
      `if [ -s ${dir}/mysql-root ] && [ "$(cat ${dir}/mysql-root)" != "$configured" ]; then cp ${dir}/mysql-root ${dir}/mysql-root.previous; fi`,
      `printf '%s' "$configured" > ${dir}/mysql-root.new && mv ${dir}/mysql-root.new ${dir}/mysql-root || exit 1`,
      'echo "root password applied and recorded"',
    );
  }
  return lines.join("\n");
}
