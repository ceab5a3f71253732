/* json_bench.c - how fast does the JSON parser read JSON lines of Windows events?
 *
 * Why: kizuki will read Winlogbeat / NXLog JSON lines at >= 300 MB/s per core (the JSON input
 * issue), and the parser (src/core/json.h) is most of that cost. This program builds a
 * deterministic set of Winlogbeat-7-like events in memory (Security 4624 logons, Sysmon process
 * creations and Security 5145 share reads: nested objects, arrays, Windows paths full of
 * backslash escapes, multi-line messages, some Japanese text), or loads the JSON-lines files
 * named, then feeds the whole buffer through kz_json_lines (split, parse into an arena reset per
 * line) again and again on one thread for at least S seconds, and prints MB/s and lines/s. The
 * callback reads two fields of every event so the work cannot be optimised away.
 *
 * usage: json_bench [--seconds S] [--events N] [--write FILE] [PATH...]
 *   --events N   events to generate (default 20000, about 40 MB)
 *   --write FILE also write the generated events to FILE (to compare with other tools)
 *   PATH...      benchmark these JSON-lines files instead of generated events */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: json_bench [--seconds S] [--events N] [--write FILE] [PATH...]\n"
    "\n"
    "Parses JSON lines (generated Winlogbeat-like Windows events, or the files named) with\n"
    "kz_json_lines for at least S seconds (default 3) on one thread and prints MB/s and lines/s.\n";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- generated events ---- */

static uint32_t rnd(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static const char *const users[] = {"tanaka.h",  "suzuki.k",   "sato.y",     "svc_backup",
                                    "admin.ito", "watanabe.m", "yamamoto.r", "nakamura.s"};
static const char *const hosts[] = {"WS0113", "WS0245", "VDI-07", "FS01",
                                    "DC01",   "OPS02",  "WS0999"};
static const char *const images[] = {
    "C:\\\\Windows\\\\System32\\\\cmd.exe",
    "C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe",
    "C:\\\\Program Files\\\\Java\\\\jre\\\\bin\\\\java.exe", "C:\\\\Windows\\\\explorer.exe",
    "C:\\\\Users\\\\tanaka.h\\\\AppData\\\\Local\\\\Temp\\\\update.exe"};
static const char *const shares[] = {"\\\\\\\\*\\\\Projects", "\\\\\\\\*\\\\SYSVOL",
                                     "\\\\\\\\*\\\\IPC$"};
static const char *const files[] = {
    "\\u9867\\u5ba2A\\\\\\u898b\\u7a4d\\u66f8.xlsx", /* (customer A)\(quotation).xlsx */
    "customer-0042\\\\contracts\\\\2020\\\\nda.pdf",
    "corp.local\\\\Policies\\\\{31B2F340}\\\\Machine\\\\Scripts\\\\scripts.ini",
    "\xE9\xA1\xA7\xE5\xAE\xA2"
    "B\\\\design\\\\plan-v3.docx"};

static void put_common(struct kz_buf *b, uint32_t *s, uint64_t rec, const char *host,
                       const char *channel, const char *provider, int code) {
    unsigned sec = (unsigned)(rec % 86400);
    kz_buf_printf(b,
                  "{\"@timestamp\":\"2020-05-%02uT%02u:%02u:%02u.%03uZ\","
                  "\"agent\":{\"ephemeral_id\":\"%08x-1c13-4b42-8f34-c141678caecd\","
                  "\"hostname\":\"%s\",\"id\":\"6f84fa8d-516d-455c-b4b3-%012x\",\"name\":\"%s\","
                  "\"type\":\"winlogbeat\",\"version\":\"7.16.2\"},"
                  "\"ecs\":{\"version\":\"1.12.0\"},"
                  "\"host\":{\"name\":\"%s.corp.example.jp\",\"hostname\":\"%s\","
                  "\"architecture\":\"x86_64\",\"os\":{\"build\":\"17763.737\",\"family\":"
                  "\"windows\",\"kernel\":\"10.0.17763.737 (WinBuild.160101.0800)\",\"name\":"
                  "\"Windows Server 2019 Datacenter\",\"platform\":\"windows\",\"type\":"
                  "\"windows\",\"version\":\"10.0\"},\"ip\":[\"fe80::ed68:469f:c3ea:ab43\","
                  "\"10.2.%u.%u\"],\"mac\":[\"00:17:fb:00:00:41\"]},"
                  "\"log\":{\"level\":\"information\"},"
                  "\"winlog\":{\"api\":\"wineventlog\",\"channel\":\"%s\",\"computer_name\":"
                  "\"%s.corp.example.jp\",\"event_id\":%d,\"opcode\":\"Info\",\"process\":{"
                  "\"pid\":%u,\"thread\":{\"id\":%u}},\"provider_guid\":"
                  "\"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}\",\"provider_name\":\"%s\","
                  "\"record_id\":%llu,\"version\":%u,",
                  1 + (unsigned)(rec / 86400 % 28), sec / 3600, sec / 60 % 60, sec % 60,
                  rnd(s) % 1000, rnd(s), host, rnd(s) & 0xFFFFFF, host, host, host, rnd(s) % 256,
                  rnd(s) % 256, channel, host, code, 600 + rnd(s) % 8000, rnd(s) % 9000, provider,
                  (unsigned long long)rec, rnd(s) % 5);
}

static void gen_event(struct kz_buf *b, uint32_t *s, uint64_t rec) {
    const char *user = users[rnd(s) % 8], *host = hosts[rnd(s) % 7];
    unsigned kind = rnd(s) % 3;
    if (kind == 0) { /* 4624 logon */
        put_common(b, s, rec, host, "Security", "Microsoft-Windows-Security-Auditing", 4624);
        unsigned lt = (unsigned[]){2, 3, 10}[rnd(s) % 3];
        kz_buf_printf(
            b,
            "\"event_data\":{\"SubjectUserSid\":\"S-1-5-18\",\"SubjectUserName\":\"%s$\","
            "\"SubjectDomainName\":\"CORP\",\"SubjectLogonId\":\"0x3e7\",\"TargetUserSid\":"
            "\"S-1-5-21-3940915590-64593676-1414006259-%u\",\"TargetUserName\":\"%s\","
            "\"TargetDomainName\":\"CORP\",\"TargetLogonId\":\"0x%x\",\"LogonType\":\"%u\","
            "\"LogonProcessName\":\"User32 \",\"AuthenticationPackageName\":\"Negotiate\","
            "\"WorkstationName\":\"%s\",\"LogonGuid\":\"{00000000-0000-0000-0000-000000000000}\","
            "\"TransmittedServices\":\"-\",\"LmPackageName\":\"-\",\"KeyLength\":\"0\","
            "\"ProcessId\":\"0x%x\",\"ProcessName\":\"C:\\\\Windows\\\\System32\\\\svchost.exe\","
            "\"IpAddress\":\"10.1.%u.%u\",\"IpPort\":\"%u\",\"ImpersonationLevel\":\"%%%%1833\","
            "\"ElevatedToken\":\"%%%%1842\"},\"task\":\"Logon\",\"keywords\":[\"Audit "
            "Success\"]},\"event\":{\"action\":\"logged-in\",\"category\":[\"authentication\"],"
            "\"code\":\"4624\",\"kind\":\"event\",\"module\":\"security\",\"outcome\":"
            "\"success\",\"type\":[\"start\"]},\"message\":\"An account was successfully "
            "logged on.\\n\\nSubject:\\n\\tSecurity ID:\\t\\tS-1-5-18\\n\\tAccount Name:\\t\\t%s$"
            "\\n\\tAccount Domain:\\t\\tCORP\\n\\nLogon Information:\\n\\tLogon Type:\\t\\t%u\\n"
            "\\nNew Logon:\\n\\tAccount Name:\\t\\t%s\\n\\tAccount Domain:\\t\\tCORP\\n\\nNetwork "
            "Information:\\n\\tWorkstation Name:\\t%s\\n\\tSource Network Address:\\t10.1.%u.%u"
            "\"}\n",
            host, 1100 + rnd(s) % 900, user, rnd(s), lt, host, rnd(s) % 0x2000, rnd(s) % 256,
            rnd(s) % 256, 49152 + rnd(s) % 16000, host, lt, user, host, rnd(s) % 256, rnd(s) % 256);
    } else if (kind == 1) { /* Sysmon 1 */
        put_common(b, s, rec, host, "Microsoft-Windows-Sysmon/Operational",
                   "Microsoft-Windows-Sysmon", 1);
        const char *img = images[rnd(s) % 5], *parent = images[rnd(s) % 5];
        kz_buf_printf(
            b,
            "\"event_data\":{\"RuleName\":\"technique_id=T1059,technique_name=Command-Line "
            "Interface\",\"UtcTime\":\"2020-05-01 10:%02u:%02u.%03u\",\"ProcessGuid\":"
            "\"{3400037d-7178-65c6-%04x-000000000b00}\",\"ProcessId\":\"%u\",\"Image\":\"%s\","
            "\"FileVersion\":\"10.0.17763.1 (WinBuild.160101.0800)\",\"Description\":\"Windows "
            "Command Processor\",\"Product\":\"Microsoft\\u00ae Windows\\u00ae Operating "
            "System\",\"Company\":\"Microsoft Corporation\",\"CommandLine\":\"%s /c \\\"whoami "
            "/all > C:\\\\Users\\\\%s\\\\out.txt\\\"\",\"CurrentDirectory\":\"C:\\\\Users\\\\%s\\\\"
            "\",\"User\":\"CORP\\\\%s\",\"LogonGuid\":\"{3400037d-7178-65c6-%04x-000000000000}\","
            "\"LogonId\":\"0x%x\",\"TerminalSessionId\":\"1\",\"IntegrityLevel\":\"Medium\","
            "\"Hashes\":\"SHA1=%08X%08X,MD5=%08X%08X%08X%08X\",\"ParentProcessGuid\":"
            "\"{3400037d-7178-65c6-0b00-000000000b00}\",\"ParentProcessId\":\"%u\","
            "\"ParentImage\":\"%s\",\"ParentCommandLine\":\"%s\"},\"task\":\"Process Create "
            "(rule: ProcessCreate)\",\"user\":{\"domain\":\"NT AUTHORITY\",\"identifier\":"
            "\"S-1-5-18\",\"name\":\"SYSTEM\",\"type\":\"User\"}},\"event\":{\"action\":\"Process "
            "Create (rule: ProcessCreate)\",\"category\":[\"process\"],\"code\":\"1\",\"kind\":"
            "\"event\",\"module\":\"sysmon\",\"type\":[\"start\",\"process_start\"]},"
            "\"process\":{\"executable\":\"%s\",\"pid\":%u,\"args\":[\"cmd.exe\",\"/c\","
            "\"whoami\",\"/all\"],\"parent\":{\"executable\":\"%s\"}},\"message\":\"Process "
            "Create:\\nRuleName: technique_id=T1059\\nUtcTime: 2020-05-01\\nImage: %s\\n"
            "CommandLine: %s /c \\\"whoami /all\\\"\\nUser: CORP\\\\%s\"}\n",
            rnd(s) % 60, rnd(s) % 60, rnd(s) % 1000, rnd(s) & 0xFFFF, rnd(s) % 9000, img, img, user,
            user, user, rnd(s) & 0xFFFF, rnd(s), rnd(s), rnd(s), rnd(s), rnd(s), rnd(s), rnd(s),
            rnd(s) % 9000, parent, parent, img, rnd(s) % 9000, parent, img, img, user);
    } else { /* 5145 share access */
        put_common(b, s, rec, host, "Security", "Microsoft-Windows-Security-Auditing", 5145);
        kz_buf_printf(
            b,
            "\"event_data\":{\"SubjectUserSid\":\"S-1-5-21-3940915590-64593676-1414006259-%u\","
            "\"SubjectUserName\":\"%s\",\"SubjectDomainName\":\"CORP\",\"SubjectLogonId\":"
            "\"0x%x\",\"ObjectType\":\"File\",\"IpAddress\":\"10.1.%u.%u\",\"IpPort\":\"%u\","
            "\"ShareName\":\"%s\",\"ShareLocalPath\":\"\\\\??\\\\D:\\\\Shares\\\\Projects\","
            "\"RelativeTargetName\":\"%s\",\"AccessMask\":\"0x120089\",\"AccessList\":"
            "\"%%%%1538\\r\\n\\t\\t\\t\\t%%%%1541\\r\\n\\t\\t\\t\\t%%%%4416\\r\\n\","
            "\"AccessReason\":\"-\"},"
            "\"task\":\"Detailed File Share\",\"keywords\":[\"Audit Success\"]},\"event\":{"
            "\"action\":\"Detailed File Share\",\"category\":[\"file\"],\"code\":\"5145\","
            "\"kind\":\"event\",\"module\":\"security\",\"outcome\":\"success\"},\"message\":"
            "\"A network share object was checked to see whether client can be granted desired "
            "access.\\n\\nSubject:\\n\\tAccount Name:\\t\\t%s\\n\\nShare Information:\\n\\tShare "
            "Name:\\t\\t%s\\n\\tRelative Target Name:\\t%s\"}\n",
            1100 + rnd(s) % 900, user, rnd(s), rnd(s) % 256, rnd(s) % 256, 49152 + rnd(s) % 16000,
            shares[rnd(s) % 3], files[rnd(s) % 4], user, shares[rnd(s) % 3], files[rnd(s) % 4]);
    }
}

/* ---- the benchmark ---- */

struct tally {
    uint64_t lines;
    uint64_t nodes;
    uint64_t check; /* sums something of every event, so the work is observable */
};

static int on_doc(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct tally *t = ctx;
    const struct kz_json_node *root = kz_json_root(doc);
    const struct kz_json_node *wl = kz_json_get(root, "winlog");
    int64_t id = 0;
    kz_json_int(kz_json_get(wl, "record_id"), &id);
    const struct kz_json_node *ts = kz_json_get(root, "@timestamp");
    t->lines++;
    t->nodes += doc->nnodes;
    t->check += (uint64_t)id + (ts ? ts->len : 0) + doc->nnodes;
    return 0;
}

static void on_bad(void *ctx, uint64_t line, const struct kz_json_error *err) {
    static int shown;
    if (shown++ < 5)
        fprintf(stderr, "json_bench: line %llu, column %u: %s\n", (unsigned long long)line,
                err->column, err->msg);
}

static int load(const char *path, struct kz_buf *b) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        kz_buf_append(b, chunk, n);
    fclose(f);
    if (b->len && b->data[b->len - 1] != '\n') kz_buf_putc(b, '\n');
    return b->failed ? -1 : 0;
}

int main(int argc, char **argv) {
    double seconds = 3;
    long events = 20000;
    const char *write_path = NULL;
    struct kz_buf in;
    kz_buf_init(&in, (size_t)4 << 30);
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--write") && i + 1 < argc)
            write_path = argv[++i];
        else if (argv[i][0] == '-') {
            fputs(usage, stderr);
            return 1;
        } else {
            if (load(argv[i], &in)) return 1;
            npaths++;
        }
    }
    if (!npaths) {
        uint32_t seed = 2463534242u;
        for (long i = 0; i < events; i++)
            gen_event(&in, &seed, 100000 + (uint64_t)i);
        if (in.failed) {
            fputs("json_bench: out of memory generating events\n", stderr);
            return 1;
        }
        if (write_path) {
            FILE *f = fopen(write_path, "wb");
            if (!f || fwrite(in.data, 1, in.len, f) != in.len || fclose(f)) {
                perror(write_path);
                return 1;
            }
        }
    }
    struct kz_arena a;
    kz_arena_init(&a, 64 * 1024, 0);
    struct tally t = {0};
    struct kz_json_lines jl;
    if (kz_json_lines_init(&jl, NULL, &a, on_doc, on_bad, &t)) return 1;
    double t0 = now(), elapsed;
    uint64_t rounds = 0;
    do {
        kz_json_lines_feed(&jl, in.data, in.len);
        kz_json_lines_finish(&jl);
        rounds++;
        elapsed = now() - t0;
    } while (elapsed < seconds);
    double mb = (double)in.len * (double)rounds / 1e6;
    printf("json_bench: %s: %.1f MB x %llu rounds, %llu lines (%llu bad) in %.2f s: %.0f MB/s, "
           "%.0f lines/s, %.1f nodes/line (check %llu)\n",
           npaths ? "files" : "generated Winlogbeat-like events", (double)in.len / 1e6,
           (unsigned long long)rounds, (unsigned long long)jl.line, (unsigned long long)jl.bad,
           elapsed, mb / elapsed, (double)t.lines / elapsed,
           t.lines ? (double)t.nodes / (double)t.lines : 0.0, (unsigned long long)t.check);
    int rc = jl.bad ? 1 : 0;
    kz_json_lines_free(&jl);
    kz_arena_free(&a);
    kz_buf_free(&in);
    return rc;
}
