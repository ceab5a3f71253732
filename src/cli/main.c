/* main.c - the kizuki command: dispatches to one subcommand per file (cmd_*.c).
 *
 * The command table below is the single list of subcommands; `kizuki --help` is generated from it.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* NULL: not in this version yet */
};

static const struct command commands[] = {
    {"dump", "decode logs and print every event (JSON lines or XML)", kz_cmd_dump},
    {"scan", "run Sigma rules and behaviour analytics, print findings", kz_cmd_scan},
    {"rules", "check that rules load (rules check)", kz_cmd_rules},
    {"simulate", "generate a simulated estate with the two incidents", kz_cmd_simulate},
    {"eval", "score findings against a simulation's ground truth", kz_cmd_eval},
    {"ingest", "keep logs as evidence in a store", kz_cmd_ingest},
    {"verify", "re-check every hash in a store", kz_cmd_verify},
    {"scope", "what an account or host reached, and whose data", kz_cmd_scope},
    {"timeline", "everything an account or host did, in order", kz_cmd_timeline},
    {"risk", "the riskiest accounts and hosts (behaviour analytics), with reasons", kz_cmd_risk},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *f) {
    fputs("kizuki - detection and forensic scoping for Windows/Active Directory logs\n\n"
          "usage: kizuki COMMAND [OPTIONS] [PATH...]\n\ncommands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not in this version yet)");
    fputs("\nevery command takes --help, --version and --quiet.\n"
          "exit codes: 0 success, 1 usage or input error, 2 internal error.\n"
          "example: kizuki dump Security.evtx | head\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return KZ_EXIT_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return KZ_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        kz_cli_print_version();
        return KZ_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(cmd, commands[i].name)) continue;
        if (!commands[i].run) {
            fprintf(stderr, "kizuki %s: not in this version yet (kizuki %s); see `kizuki --help`\n",
                    cmd, KZ_VERSION);
            return KZ_EXIT_INPUT;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "kizuki: unknown command '%s'; see `kizuki --help`\n", cmd);
    return KZ_EXIT_INPUT;
}
