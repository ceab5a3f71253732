/* sim_events.c - how the simulator's actions become the events Windows, Sysmon, nginx, Tomcat and
 * a FortiGate would log for them.
 *
 * Two halves. The helpers (sim_logon, sim_proc, sim_share_file, sim_web, sim_vpn...) turn one
 * action into every event it causes, on every host that logs it: a network logon to a file server
 * is a 4624 there and a Kerberos service ticket (4769) on a domain controller; a process start is
 * Sysmon 1 and Security 4688. The renderers turn a compact simulated event into a real template
 * instance: field names, order and types as the Windows manifests define them (Security-Auditing
 * 4624 version 2, 4688 version 2, Sysmon schema 4.x...), so Sigma rules and kizuki's own decoder
 * see what they see on real machines. */
#include "sim_int.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/fmt.h"

#include <stdio.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof *(a))

/* ---- providers ---- */

static const struct kz_evtx_guid g_security = {
    0x54849625, 0x5478, 0x4994, {0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d}};
static const struct kz_evtx_guid g_sysmon = {
    0x5770385f, 0xc22a, 0x43e0, {0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9}};
static const struct kz_evtx_guid g_powershell = {
    0xa0c1853b, 0x5c40, 0x4b15, {0x87, 0x66, 0x3c, 0xf1, 0xc5, 0x8f, 0x98, 0x5a}};
static const struct kz_evtx_guid g_scm = {
    0x555908d1, 0xa6d7, 0x4695, {0x8e, 0x1e, 0x26, 0x93, 0x1d, 0x20, 0x12, 0xf4}};
static const struct kz_evtx_guid g_wu = {
    0x945a8954, 0xc147, 0x4acd, {0x92, 0x3f, 0x40, 0xc4, 0x54, 0x05, 0xa6, 0x58}};

#define SEC_PROVIDER "Microsoft-Windows-Security-Auditing"
#define SYSMON_PROVIDER "Microsoft-Windows-Sysmon"
#define SYSMON_CHANNEL "Microsoft-Windows-Sysmon/Operational"

/* ---- template items (names and types from the providers' manifests) ---- */

#define S KZ_EVTX_VT_WSTRING
#define U32 KZ_EVTX_VT_UINT32
#define U16 KZ_EVTX_VT_UINT16
#define I32 KZ_EVTX_VT_INT32
#define H32 KZ_EVTX_VT_HEXINT32
#define H64 KZ_EVTX_VT_HEXINT64
#define SID KZ_EVTX_VT_SID
#define GUID KZ_EVTX_VT_GUID
#define BOOL KZ_EVTX_VT_BOOL
#define FT KZ_EVTX_VT_FILETIME

#define SUBJ                                                                                       \
    {"SubjectUserSid", SID, 0}, {"SubjectUserName", S, 0}, {"SubjectDomainName", S, 0}, {          \
        "SubjectLogonId", H64, 0                                                                   \
    }

static const struct kz_evtx_item i4624[] = {SUBJ,
                                            {"TargetUserSid", SID, 0},
                                            {"TargetUserName", S, 0},
                                            {"TargetDomainName", S, 0},
                                            {"TargetLogonId", H64, 0},
                                            {"LogonType", U32, 0},
                                            {"LogonProcessName", S, 0},
                                            {"AuthenticationPackageName", S, 0},
                                            {"WorkstationName", S, 0},
                                            {"LogonGuid", GUID, 0},
                                            {"TransmittedServices", S, 0},
                                            {"LmPackageName", S, 0},
                                            {"KeyLength", U32, 0},
                                            {"ProcessId", H64, 0},
                                            {"ProcessName", S, 0},
                                            {"IpAddress", S, 0},
                                            {"IpPort", S, 0},
                                            {"ImpersonationLevel", S, 0},
                                            {"RestrictedAdminMode", S, 0},
                                            {"TargetOutboundUserSid", SID, 0},
                                            {"TargetOutboundDomainName", S, 0},
                                            {"VirtualAccount", S, 0},
                                            {"TargetLinkedLogonId", H64, 0},
                                            {"ElevatedToken", S, 0}};
static const struct kz_evtx_item i4625[] = {SUBJ,
                                            {"TargetUserSid", SID, 0},
                                            {"TargetUserName", S, 0},
                                            {"TargetDomainName", S, 0},
                                            {"Status", H32, 0},
                                            {"FailureReason", S, 0},
                                            {"SubStatus", H32, 0},
                                            {"LogonType", U32, 0},
                                            {"LogonProcessName", S, 0},
                                            {"AuthenticationPackageName", S, 0},
                                            {"WorkstationName", S, 0},
                                            {"TransmittedServices", S, 0},
                                            {"LmPackageName", S, 0},
                                            {"KeyLength", U32, 0},
                                            {"ProcessId", H64, 0},
                                            {"ProcessName", S, 0},
                                            {"IpAddress", S, 0},
                                            {"IpPort", S, 0}};
static const struct kz_evtx_item i4634[] = {{"TargetUserSid", SID, 0},
                                            {"TargetUserName", S, 0},
                                            {"TargetDomainName", S, 0},
                                            {"TargetLogonId", H64, 0},
                                            {"LogonType", U32, 0}};
static const struct kz_evtx_item i4648[] = {SUBJ,
                                            {"LogonGuid", GUID, 0},
                                            {"TargetUserName", S, 0},
                                            {"TargetDomainName", S, 0},
                                            {"TargetLogonGuid", GUID, 0},
                                            {"TargetServerName", S, 0},
                                            {"TargetInfo", S, 0},
                                            {"ProcessId", H64, 0},
                                            {"ProcessName", S, 0},
                                            {"IpAddress", S, 0},
                                            {"IpPort", S, 0}};
static const struct kz_evtx_item i4672[] = {SUBJ, {"PrivilegeList", S, 0}};
static const struct kz_evtx_item i4688[] = {SUBJ,
                                            {"NewProcessId", H64, 0},
                                            {"NewProcessName", S, 0},
                                            {"TokenElevationType", S, 0},
                                            {"ProcessId", H64, 0},
                                            {"CommandLine", S, 0},
                                            {"TargetUserSid", SID, 0},
                                            {"TargetUserName", S, 0},
                                            {"TargetDomainName", S, 0},
                                            {"TargetLogonId", H64, 0},
                                            {"ParentProcessName", S, 0},
                                            {"MandatoryLabel", SID, 0}};
static const struct kz_evtx_item i4663[] = {SUBJ,
                                            {"ObjectServer", S, 0},
                                            {"ObjectType", S, 0},
                                            {"ObjectName", S, 0},
                                            {"HandleId", H64, 0},
                                            {"AccessList", S, 0},
                                            {"AccessMask", H32, 0},
                                            {"ProcessId", H64, 0},
                                            {"ProcessName", S, 0},
                                            {"ResourceAttributes", S, 0}};
static const struct kz_evtx_item i4697[] = {SUBJ,
                                            {"ServiceName", S, 0},
                                            {"ServiceFileName", S, 0},
                                            {"ServiceType", H32, 0},
                                            {"ServiceStartType", U32, 0},
                                            {"ServiceAccount", S, 0}};
static const struct kz_evtx_item i4698[] = {SUBJ, {"TaskName", S, 0}, {"TaskContent", S, 0}};
static const struct kz_evtx_item i4720[] = {
    {"TargetUserName", S, 0},      {"TargetDomainName", S, 0},
    {"TargetSid", SID, 0},         SUBJ,
    {"PrivilegeList", S, 0},       {"SamAccountName", S, 0},
    {"DisplayName", S, 0},         {"UserPrincipalName", S, 0},
    {"HomeDirectory", S, 0},       {"HomePath", S, 0},
    {"ScriptPath", S, 0},          {"ProfilePath", S, 0},
    {"UserWorkstations", S, 0},    {"PasswordLastSet", S, 0},
    {"AccountExpires", S, 0},      {"PrimaryGroupId", S, 0},
    {"AllowedToDelegateTo", S, 0}, {"OldUacValue", S, 0},
    {"NewUacValue", S, 0},         {"UserAccountControl", S, 0},
    {"UserParameters", S, 0},      {"SidHistory", S, 0},
    {"LogonHours", S, 0}};
static const struct kz_evtx_item i4724[] = {
    {"TargetUserName", S, 0}, {"TargetDomainName", S, 0}, {"TargetSid", SID, 0}, SUBJ};
static const struct kz_evtx_item i4728[] = {{"MemberName", S, 0},     {"MemberSid", SID, 0},
                                            {"TargetUserName", S, 0}, {"TargetDomainName", S, 0},
                                            {"TargetSid", SID, 0},    SUBJ,
                                            {"PrivilegeList", S, 0}};
static const struct kz_evtx_item i4768[] = {
    {"TargetUserName", S, 0},   {"TargetDomainName", S, 0},
    {"TargetSid", SID, 0},      {"ServiceName", S, 0},
    {"ServiceSid", SID, 0},     {"TicketOptions", H32, 0},
    {"Status", H32, 0},         {"TicketEncryptionType", H32, 0},
    {"PreAuthType", S, 0},      {"IpAddress", S, 0},
    {"IpPort", S, 0},           {"CertIssuerName", S, 0},
    {"CertSerialNumber", S, 0}, {"CertThumbprint", S, 0}};
static const struct kz_evtx_item i4769[] = {
    {"TargetUserName", S, 0},     {"TargetDomainName", S, 0},
    {"ServiceName", S, 0},        {"ServiceSid", SID, 0},
    {"TicketOptions", H32, 0},    {"TicketEncryptionType", H32, 0},
    {"IpAddress", S, 0},          {"IpPort", S, 0},
    {"Status", H32, 0},           {"LogonGuid", GUID, 0},
    {"TransmittedServices", S, 0}};
static const struct kz_evtx_item i4776[] = {
    {"PackageName", S, 0}, {"TargetUserName", S, 0}, {"Workstation", S, 0}, {"Status", H32, 0}};
static const struct kz_evtx_item i5136[] = {{"OpCorrelationID", GUID, 0},
                                            {"AppCorrelationID", S, 0},
                                            SUBJ,
                                            {"DSName", S, 0},
                                            {"DSType", S, 0},
                                            {"ObjectDN", S, 0},
                                            {"ObjectGUID", GUID, 0},
                                            {"ObjectClass", S, 0},
                                            {"AttributeLDAPDisplayName", S, 0},
                                            {"AttributeSyntaxOID", S, 0},
                                            {"AttributeValue", S, 0},
                                            {"OperationType", S, 0}};
static const struct kz_evtx_item i5140[] = {SUBJ,
                                            {"ObjectType", S, 0},
                                            {"IpAddress", S, 0},
                                            {"IpPort", S, 0},
                                            {"ShareName", S, 0},
                                            {"ShareLocalPath", S, 0},
                                            {"AccessMask", H32, 0},
                                            {"AccessList", S, 0}};
static const struct kz_evtx_item i5145[] = {SUBJ,
                                            {"ObjectType", S, 0},
                                            {"IpAddress", S, 0},
                                            {"IpPort", S, 0},
                                            {"ShareName", S, 0},
                                            {"ShareLocalPath", S, 0},
                                            {"RelativeTargetName", S, 0},
                                            {"AccessMask", H32, 0},
                                            {"AccessList", S, 0},
                                            {"AccessReason", S, 0}};
static const struct kz_evtx_item i7045[] = {{"ServiceName", S, 0},
                                            {"ImagePath", S, 0},
                                            {"ServiceType", S, 0},
                                            {"StartType", S, 0},
                                            {"AccountName", S, 0}};
static const struct kz_evtx_item iwu19[] = {
    {"updateTitle", S, 0}, {"updateGuid", GUID, 0}, {"updateRevisionNumber", U32, 0}};
static const struct kz_evtx_item is1[] = {{"RuleName", S, 0},
                                          {"UtcTime", S, 0},
                                          {"ProcessGuid", GUID, 0},
                                          {"ProcessId", U32, 0},
                                          {"Image", S, 0},
                                          {"FileVersion", S, 0},
                                          {"Description", S, 0},
                                          {"Product", S, 0},
                                          {"Company", S, 0},
                                          {"OriginalFileName", S, 0},
                                          {"CommandLine", S, 0},
                                          {"CurrentDirectory", S, 0},
                                          {"User", S, 0},
                                          {"LogonGuid", GUID, 0},
                                          {"LogonId", H64, 0},
                                          {"TerminalSessionId", U32, 0},
                                          {"IntegrityLevel", S, 0},
                                          {"Hashes", S, 0},
                                          {"ParentProcessGuid", GUID, 0},
                                          {"ParentProcessId", U32, 0},
                                          {"ParentImage", S, 0},
                                          {"ParentCommandLine", S, 0},
                                          {"ParentUser", S, 0}};
static const struct kz_evtx_item is3[] = {{"RuleName", S, 0},
                                          {"UtcTime", S, 0},
                                          {"ProcessGuid", GUID, 0},
                                          {"ProcessId", U32, 0},
                                          {"Image", S, 0},
                                          {"User", S, 0},
                                          {"Protocol", S, 0},
                                          {"Initiated", BOOL, 0},
                                          {"SourceIsIpv6", BOOL, 0},
                                          {"SourceIp", S, 0},
                                          {"SourceHostname", S, 0},
                                          {"SourcePort", U16, 0},
                                          {"SourcePortName", S, 0},
                                          {"DestinationIsIpv6", BOOL, 0},
                                          {"DestinationIp", S, 0},
                                          {"DestinationHostname", S, 0},
                                          {"DestinationPort", U16, 0},
                                          {"DestinationPortName", S, 0}};
static const struct kz_evtx_item is10[] = {{"RuleName", S, 0},
                                           {"UtcTime", S, 0},
                                           {"SourceProcessGUID", GUID, 0},
                                           {"SourceProcessId", U32, 0},
                                           {"SourceThreadId", U32, 0},
                                           {"SourceImage", S, 0},
                                           {"TargetProcessGUID", GUID, 0},
                                           {"TargetProcessId", U32, 0},
                                           {"TargetImage", S, 0},
                                           {"GrantedAccess", S, 0},
                                           {"CallTrace", S, 0},
                                           {"SourceUser", S, 0},
                                           {"TargetUser", S, 0}};
static const struct kz_evtx_item is11[] = {
    {"RuleName", S, 0}, {"UtcTime", S, 0},        {"ProcessGuid", GUID, 0},  {"ProcessId", U32, 0},
    {"Image", S, 0},    {"TargetFilename", S, 0}, {"CreationUtcTime", S, 0}, {"User", S, 0}};
static const struct kz_evtx_item is13[] = {
    {"RuleName", S, 0},       {"EventType", S, 0},   {"UtcTime", S, 0},
    {"ProcessGuid", GUID, 0}, {"ProcessId", U32, 0}, {"Image", S, 0},
    {"TargetObject", S, 0},   {"Details", S, 0},     {"User", S, 0}};
static const struct kz_evtx_item i4104[] = {{"MessageNumber", I32, 0},
                                            {"MessageTotal", I32, 0},
                                            {"ScriptBlockText", S, 0},
                                            {"ScriptBlockId", GUID, 0},
                                            {"Path", S, 0}};

#define SECDEF(id, ver, task_, items_)                                                             \
    {                                                                                              \
        .provider = SEC_PROVIDER, .provider_guid = &g_security, .event_id = id, .qualifiers = -1,  \
        .version = ver, .level = 0, .task = task_, .keywords = 0x8020000000000000ull,              \
        .channel = "Security", .nested = 1, .items = items_, .nitems = N(items_)                   \
    }
#define SYSMONDEF(id, ver, task_, items_)                                                          \
    {                                                                                              \
        .provider = SYSMON_PROVIDER, .provider_guid = &g_sysmon, .event_id = id, .qualifiers = -1, \
        .version = ver, .level = 4, .task = task_, .keywords = 0x8000000000000000ull,              \
        .channel = SYSMON_CHANNEL, .items = items_, .nitems = N(items_)                            \
    }

static const struct kz_evtx_template_def defs[NKINDS] = {
    [K_4624] = SECDEF(4624, 2, 12544, i4624),
    [K_4625] = {.provider = SEC_PROVIDER,
                .provider_guid = &g_security,
                .event_id = 4625,
                .qualifiers = -1,
                .task = 12544,
                .keywords = 0x8010000000000000ull,
                .channel = "Security",
                .nested = 1,
                .items = i4625,
                .nitems = N(i4625)},
    [K_4634] = SECDEF(4634, 0, 12545, i4634),
    [K_4648] = SECDEF(4648, 0, 12544, i4648),
    [K_4672] = SECDEF(4672, 0, 12548, i4672),
    [K_4688] = SECDEF(4688, 2, 13312, i4688),
    [K_4663] = SECDEF(4663, 1, 12800, i4663),
    [K_4697] = SECDEF(4697, 0, 12289, i4697),
    [K_4698] = SECDEF(4698, 0, 12804, i4698),
    [K_4720] = SECDEF(4720, 0, 13824, i4720),
    [K_4724] = SECDEF(4724, 0, 13824, i4724),
    [K_4728] = SECDEF(4728, 0, 13826, i4728),
    [K_4768] = SECDEF(4768, 0, 14339, i4768),
    [K_4769] = SECDEF(4769, 0, 14337, i4769),
    [K_4776] = SECDEF(4776, 0, 14336, i4776),
    [K_5136] = SECDEF(5136, 0, 14081, i5136),
    [K_5140] = SECDEF(5140, 1, 12808, i5140),
    [K_5145] = SECDEF(5145, 0, 12811, i5145),
    [K_7045] = {.provider = "Service Control Manager",
                .provider_guid = &g_scm,
                .event_source = "Service Control Manager",
                .event_id = 7045,
                .qualifiers = 16384,
                .level = 4,
                .keywords = 0x8080000000000000ull,
                .channel = "System",
                .items = i7045,
                .nitems = N(i7045)},
    [K_WU19] = {.provider = "Microsoft-Windows-WindowsUpdateClient",
                .provider_guid = &g_wu,
                .event_id = 19,
                .qualifiers = -1,
                .version = 1,
                .level = 4,
                .task = 1,
                .opcode = 13,
                .keywords = 0x8000000000000018ull,
                .channel = "System",
                .items = iwu19,
                .nitems = N(iwu19)},
    [K_S1] = SYSMONDEF(1, 5, 1, is1),
    [K_S3] = SYSMONDEF(3, 5, 3, is3),
    [K_S10] = SYSMONDEF(10, 3, 10, is10),
    [K_S11] = SYSMONDEF(11, 2, 11, is11),
    [K_S13] = SYSMONDEF(13, 2, 13, is13),
    [K_4104] = {.provider = "Microsoft-Windows-PowerShell",
                .provider_guid = &g_powershell,
                .event_id = 4104,
                .qualifiers = -1,
                .version = 1,
                .level = 5,
                .task = 2,
                .opcode = 15,
                .channel = "Microsoft-Windows-PowerShell/Operational",
                .items = i4104,
                .nitems = N(i4104)},
    [K_4104W] = {.provider = "Microsoft-Windows-PowerShell",
                 .provider_guid = &g_powershell,
                 .event_id = 4104,
                 .qualifiers = -1,
                 .version = 1,
                 .level = 3,
                 .task = 2,
                 .opcode = 15,
                 .channel = "Microsoft-Windows-PowerShell/Operational",
                 .items = i4104,
                 .nitems = N(i4104)},
};

int sim_render_channel(int kind) {
    switch (kind) {
    case K_7045:
    case K_WU19:
        return CH_SYSTEM;
    case K_S1:
    case K_S3:
    case K_S10:
    case K_S11:
    case K_S13:
        return CH_SYSMON;
    case K_4104:
    case K_4104W:
        return CH_POWERSHELL;
    case K_NGINX:
        return CH_NGINX;
    case K_TOMCAT:
        return CH_TOMCAT;
    case K_VPN:
        return CH_VPN;
    default:
        return CH_SECURITY;
    }
}

/* ---- what executables say about themselves (Sysmon 1's version fields) ---- */

struct image_info {
    const char *base, *version, *description, *product, *company, *original;
};
#define MSW "Microsoft\xc2\xae Windows\xc2\xae Operating System"
#define MSC "Microsoft Corporation"
#define WV "10.0.19041.1 (WinBuild.160101.0800)"
static const struct image_info images[] = {
    {"cmd.exe", WV, "Windows Command Processor", MSW, MSC, "Cmd.Exe"},
    {"powershell.exe", WV, "Windows PowerShell", MSW, MSC, "PowerShell.EXE"},
    {"explorer.exe", WV, "Windows Explorer", MSW, MSC, "EXPLORER.EXE"},
    {"userinit.exe", WV, "Userinit Logon Application", MSW, MSC, "USERINIT.EXE"},
    {"svchost.exe", WV, "Host Process for Windows Services", MSW, MSC, "svchost.exe"},
    {"net.exe", WV, "Net Command", MSW, MSC, "net.exe"},
    {"net1.exe", WV, "Net Command", MSW, MSC, "net1.exe"},
    {"whoami.exe", WV, "whoami - displays logged on user information", MSW, MSC, "whoami.exe"},
    {"ipconfig.exe", WV, "IP Configuration Utility", MSW, MSC, "ipconfig.exe"},
    {"nltest.exe", WV, "Microsoft\xc2\xae Logon Server Test Utility", MSW, MSC, "nltestrk.exe"},
    {"rundll32.exe", WV, "Windows host process (Rundll32)", MSW, MSC, "RUNDLL32.EXE"},
    {"reg.exe", WV, "Registry Console Tool", MSW, MSC, "reg.exe"},
    {"sc.exe", WV, "Service Control Manager Configuration Tool", MSW, MSC, "sc.exe"},
    {"vssadmin.exe", WV, "Command Line Interface for Microsoft\xc2\xae Volume Shadow Copy Service ",
     MSW, MSC, "VSSADMIN.EXE"},
    {"WMIC.exe", WV, "WMI Commandline Utility", MSW, MSC, "wmic.exe"},
    {"schtasks.exe", WV, "Task Scheduler Configuration Tool", MSW, MSC, "schtasks.exe"},
    {"taskhostw.exe", WV, "Host Process for Windows Tasks", MSW, MSC, "taskhostw.exe"},
    {"gpupdate.exe", WV, "Microsoft\xc2\xae Group Policy Update Utility", MSW, MSC, "gpupdate.exe"},
    {"mstsc.exe", WV, "Remote Desktop Connection", MSW, MSC, "mstsc.exe"},
    {"notepad.exe", WV, "Notepad", MSW, MSC, "NOTEPAD.EXE"},
    {"robocopy.exe", WV, "Microsoft Robocopy", MSW, MSC, "robocopy.exe"},
    {"wuauclt.exe", WV, "Windows Update", MSW, MSC, "wuauclt.exe"},
    {"msiexec.exe", "5.0.19041.1 (WinBuild.160101.0800)", "Windows\xc2\xae installer", MSW, MSC,
     "msiexec.exe"},
    {"mmc.exe", WV, "Microsoft Management Console", MSW, MSC, "MMC.EXE"},
    {"OUTLOOK.EXE", "16.0.17328.20162", "Microsoft Outlook", "Microsoft Outlook", MSC,
     "Outlook.exe"},
    {"EXCEL.EXE", "16.0.17328.20162", "Microsoft Excel", "Microsoft Office", MSC, "Excel.exe"},
    {"WINWORD.EXE", "16.0.17328.20162", "Microsoft Word", "Microsoft Office", MSC, "WinWord.exe"},
    {"POWERPNT.EXE", "16.0.17328.20162", "Microsoft PowerPoint", "Microsoft Office", MSC,
     "POWERPNT.EXE"},
    {"ms-teams.exe", "24004.1307.2669.7070", "Microsoft Teams", "Microsoft Teams", MSC,
     "ms-teams.exe"},
    {"msedge.exe", "122.0.2365.66", "Microsoft Edge", "Microsoft Edge", MSC, "msedge.exe"},
    {"chrome.exe", "122.0.6261.112", "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe"},
    {"AcroRd32.exe", "23.8.20470.0", "Adobe Acrobat Reader", "Adobe Acrobat Reader",
     "Adobe Systems Incorporated", "AcroRd32.exe"},
    {"java.exe", "8.0.3010.9", "Java(TM) Platform SE binary", "Java(TM) Platform SE 8",
     "Oracle Corporation", "java.exe"},
    {"keytool.exe", "8.0.3010.9", "Java(TM) Platform SE binary", "Java(TM) Platform SE 8",
     "Oracle Corporation", "keytool.exe"},
    {"sqlservr.exe", "2019.150.4355.3", "SQL Server Windows NT - 64 Bit", "Microsoft SQL Server",
     MSC, "sqlservr.exe"},
    {"7z.exe", "23.01", "7-Zip Console", "7-Zip", "Igor Pavlov", "7z.exe"},
    {"rclone.exe", "1.65.2", "Rclone", "Rclone", "https://rclone.org", "rclone.exe"},
    {"tsclient.exe", "-", "-", "-", "-", "-"},
};

static const struct image_info *image_lookup(const char *image) {
    const char *base = strrchr(image, '\\');
    base = base ? base + 1 : image;
    for (size_t i = 0; i < N(images); i++)
        if (!strcasecmp(base, images[i].base)) return &images[i];
    return NULL;
}

/* ---- per-thread rendering state ---- */

#define HASH_CACHE 256
struct sim_render {
    const struct kz_sim_estate *e;
    char **host_dollar; /* "WS0012$" per host */
    char **qualified;   /* "CORP\\tsuzuki" per user */
    struct {
        const char *image;
        const struct image_info *info;
        char hashes[160];
    } cache[HASH_CACHE];
    char scratch[8][96];
    struct kz_evtx_value v[32];
    struct kz_evtx_guid g1, g2;
    char dn[256];
    struct kz_evtx_guid scratch_guid;
    struct kz_buf json; /* --format jsonl: the line being built */
    char line[16384];
    struct kz_evtx_sid system_sid, null_sid, medium, high, sysil;
};

struct sim_render *sim_render_new(const struct kz_sim_estate *e) {
    struct sim_render *r = kz_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->e = e;
    r->host_dollar = kz_calloc(e->nhosts, sizeof *r->host_dollar);
    r->qualified = kz_calloc(e->nusers, sizeof *r->qualified);
    if (!r->host_dollar || !r->qualified) goto fail;
    for (uint32_t i = 0; i < e->nhosts; i++) {
        size_t n = strlen(e->hosts[i].name);
        if (!(r->host_dollar[i] = kz_malloc(n + 2))) goto fail;
        memcpy(r->host_dollar[i], e->hosts[i].name, n);
        memcpy(r->host_dollar[i] + n, "$", 2);
    }
    for (uint32_t i = 0; i < e->nusers; i++) {
        size_t n = strlen(e->users[i].sam);
        if (!(r->qualified[i] = kz_malloc(n + sizeof KZ_SIM_DOMAIN + 1))) goto fail;
        memcpy(r->qualified[i], KZ_SIM_DOMAIN "\\", sizeof KZ_SIM_DOMAIN);
        memcpy(r->qualified[i] + sizeof KZ_SIM_DOMAIN, e->users[i].sam, n + 1);
    }
    kz_buf_init(&r->json, 1 << 20);
    kz_evtx_sid_parse("S-1-5-18", &r->system_sid);
    kz_evtx_sid_parse("S-1-0-0", &r->null_sid);
    kz_evtx_sid_parse("S-1-16-8192", &r->medium);
    kz_evtx_sid_parse("S-1-16-12288", &r->high);
    kz_evtx_sid_parse("S-1-16-16384", &r->sysil);
    return r;
fail:
    sim_render_free(r);
    return NULL;
}

void sim_render_free(struct sim_render *r) {
    if (!r) return;
    for (uint32_t i = 0; r->host_dollar && i < r->e->nhosts; i++)
        kz_free(r->host_dollar[i]);
    for (uint32_t i = 0; r->qualified && i < r->e->nusers; i++)
        kz_free(r->qualified[i]);
    kz_free(r->host_dollar);
    kz_free(r->qualified);
    kz_buf_free(&r->json);
    kz_free(r);
}

static const char hexd[] = "0123456789ABCDEF";

static char *put_hex(char *o, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--)
        o[i] = hexd[v & 15], v >>= 4;
    return o + digits;
}

/* Sysmon's hashes of an image: derived from its path (the same image always hashes the same). */
static void image_meta(struct sim_render *r, const char *image, const struct image_info **info,
                       const char **hashes) {
    size_t slot = ((uintptr_t)image >> 3) % HASH_CACHE;
    if (r->cache[slot].image != image) {
        uint64_t h = 1469598103934665603ull;
        for (const char *p = image; *p; p++)
            h = (h ^ (uint8_t)(*p | 0x20)) * 1099511628211ull;
        char *o = r->cache[slot].hashes;
        memcpy(o, "MD5=", 4), o += 4;
        for (int i = 0; i < 2; i++)
            o = put_hex(o, kz_sim_mix(h + (uint64_t)i), 16);
        memcpy(o, ",SHA256=", 8), o += 8;
        for (int i = 0; i < 4; i++)
            o = put_hex(o, kz_sim_mix(h ^ (0x5a5a + (uint64_t)i)), 16);
        memcpy(o, ",IMPHASH=", 9), o += 9;
        for (int i = 0; i < 2; i++)
            o = put_hex(o, kz_sim_mix(h ^ (0x1111 * (uint64_t)(i + 7))), 16);
        *o = 0;
        r->cache[slot].image = image;
        r->cache[slot].info = image_lookup(image);
    }
    *info = r->cache[slot].info;
    *hashes = r->cache[slot].hashes;
}

/* Sysmon's process GUID: fixed per host and pid, so a child's ParentProcessGuid matches. */
static void proc_guid(const struct sim_render *r, uint32_t host, uint32_t pid,
                      struct kz_evtx_guid *g) {
    uint64_t h = kz_sim_mix(r->e->seed ^ ((uint64_t)host << 32 | pid));
    g->data1 = (uint32_t)kz_sim_mix(host + 0x100);
    g->data2 = (uint16_t)(h >> 48);
    g->data3 = (uint16_t)(h >> 32);
    for (int i = 0; i < 8; i++)
        g->data4[i] = (uint8_t)(h >> (i * 8) ^ (i == 0 ? 0 : 0));
}

static void logon_guid(uint64_t lid, struct kz_evtx_guid *g) {
    uint64_t h = kz_sim_mix(lid), h2 = kz_sim_mix(lid ^ 0xabcdef);
    g->data1 = (uint32_t)h;
    g->data2 = (uint16_t)(h >> 32);
    g->data3 = (uint16_t)(h >> 48);
    memcpy(g->data4, &h2, 8);
}

/* "2026-03-02 00:12:34.567" (Sysmon's UtcTime). */
static const char *utc_text(char *o, kz_time t) {
    int64_t secs = t / SEC, ms = (t % SEC) / 10000;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t y;
    unsigned mo, d;
    kz_civil_from_days(days, &y, &mo, &d);
    char *p = o;
    p = kz_fmt_u64(p, (uint64_t)y);
    *p++ = '-', *p++ = (char)('0' + mo / 10), *p++ = (char)('0' + mo % 10);
    *p++ = '-', *p++ = (char)('0' + d / 10), *p++ = (char)('0' + d % 10);
    *p++ = ' ';
    int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
    *p++ = (char)('0' + hh / 10), *p++ = (char)('0' + hh % 10), *p++ = ':';
    *p++ = (char)('0' + mm / 10), *p++ = (char)('0' + mm % 10), *p++ = ':';
    *p++ = (char)('0' + ss / 10), *p++ = (char)('0' + ss % 10), *p++ = '.';
    *p++ = (char)('0' + ms / 100), *p++ = (char)('0' + ms / 10 % 10), *p++ = (char)('0' + ms % 10);
    *p = 0;
    return o;
}

static const char *ip_str(char *o, uint32_t ip) {
    char *p = o;
    for (int i = 3; i >= 0; i--) {
        p = kz_fmt_u64(p, (ip >> (i * 8)) & 255);
        if (i) *p++ = '.';
    }
    *p = 0;
    return o;
}

static const char *ffff_ip(char *o, uint32_t ip) {
    memcpy(o, "::ffff:", 7);
    ip_str(o + 7, ip);
    return o;
}

static const char *u_str(char *o, uint64_t v) {
    *kz_fmt_u64(o, v) = 0;
    return o;
}

struct who {
    const struct kz_evtx_sid *sid;
    const char *name, *domain;
};

static struct who who_of(const struct sim_render *r, uint32_t u, uint32_t host) {
    struct who w;
    if (u == KZ_SIM_NONE || u >= r->e->nusers) {
        w.sid = &r->system_sid;
        w.name = r->host_dollar[host];
        w.domain = KZ_SIM_DOMAIN;
    } else {
        w.sid = &r->e->users[u].sid;
        w.name = r->e->users[u].sam;
        w.domain = KZ_SIM_DOMAIN;
    }
    return w;
}

static const char *user_q(const struct sim_render *r, uint32_t u) {
    return u == KZ_SIM_NONE || u >= r->e->nusers ? "NT AUTHORITY\\SYSTEM" : r->qualified[u];
}

#define V_S(x) kz_evtx_v_str(x)
#define V_SID(x) kz_evtx_v_sid(x)
#define V_H64(x) kz_evtx_v_hex64(x)
#define V_H32(x) kz_evtx_v_hex32(x)
#define V_U32(x) kz_evtx_v_u32(x)
#define V_GUID(x) kz_evtx_v_guid(x)

/* The template values of ev, into r->v, and the event around them (out->tmpl is left to the
 * caller). Pointers in out point into r, valid until the next call. */
static int build(struct sim_render *r, const struct sim_ev *ev, struct kz_evtx_event *out,
                 uint32_t *nvalues, struct kz_err *err) {
    const struct kz_sim_estate *e = r->e;
    struct kz_evtx_value *v = r->v;
    uint32_t nv = 0;
#define PUT(x) (v[nv++] = (x))
    char(*sc)[96] = r->scratch;
    const struct kz_sim_host *h = &e->hosts[ev->host];
    *out = (struct kz_evtx_event){.time = ev->t,
                                  .computer = h->fqdn,
                                  .process_id = 600 + 4 * (ev->host % 40),
                                  .thread_id = 700 + 4 * (uint32_t)(ev->seq % 300),
                                  .values = v};
    struct who s = who_of(r, ev->u, ev->host);
    if (ev->flags & EVF_MACHINE && ev->u2 < e->nhosts) {
        s.sid = &e->hosts[ev->u2].sid; /* a member's computer account, on a DC */
        s.name = r->host_dollar[ev->u2];
    } else if (ev->u == KZ_SIM_NONE && ev->ltype == 5 &&
               (ev->kind == K_4624 || ev->kind == K_4672)) {
        s.name = "SYSTEM"; /* a service started by the machine itself */
        s.domain = "NT AUTHORITY";
    }
    static const struct kz_evtx_guid zero_guid;
    switch (ev->kind) {
    case K_4624:
    case K_4625: {
        int lt = ev->ltype, ntlm = ev->flags & EVF_NTLM;
        struct who subj = {&r->null_sid, "-", "-"};
        uint64_t subj_lid = 0;
        if (lt == 2 || lt == 7 || lt == 10 || lt == 11 || lt == 5) {
            subj = who_of(r, KZ_SIM_NONE, ev->host);
            subj_lid = 0x3e7;
        }
        const char *lproc = lt == 3   ? (ntlm ? "NtLmSsp " : "Kerberos")
                            : lt == 5 ? "Advapi  "
                                      : "User32 ";
        const char *auth = lt == 3 ? (ntlm ? "NTLM" : "Kerberos") : "Negotiate";
        const char *ws = lt == 3 ? (ntlm && ev->s1 ? ev->s1 : "-") : ev->s1 ? ev->s1 : h->name;
        const char *pname = lt == 3   ? "-"
                            : lt == 5 ? "C:\\Windows\\System32\\services.exe"
                                      : "C:\\Windows\\System32\\svchost.exe";
        uint64_t ppid = lt == 3 ? 0 : 0x300 + 4 * (ev->host % 64);
        const char *ip = ev->src ? ip_str(sc[0], ev->src) : (lt == 5 ? "-" : "127.0.0.1");
        const char *port = ev->src ? u_str(sc[1], ev->port ? ev->port : 49152 + ev->seq % 16000)
                                   : (lt == 5 ? "-" : "0");
        PUT(V_SID(subj.sid)), PUT(V_S(subj.name)), PUT(V_S(subj.domain)), PUT(V_H64(subj_lid));
        if (ev->kind == K_4625) {
            PUT(V_SID(&r->null_sid)), PUT(V_S(s.name)), PUT(V_S(s.domain));
            PUT(V_H32(0xC000006D)), PUT(V_S("%%2313")), PUT(V_H32(ev->n ? ev->n : 0xC000006A));
            PUT(V_U32((uint32_t)lt)), PUT(V_S(lproc)), PUT(V_S(auth)), PUT(V_S(ws));
            PUT(V_S("-")), PUT(V_S("-")), PUT(V_U32(0)), PUT(V_H64(ppid)), PUT(V_S(pname));
            PUT(V_S(ip)), PUT(V_S(port));
            break;
        }
        logon_guid(ev->lid, &r->g1);
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_U32((uint32_t)lt)), PUT(V_S(lproc)), PUT(V_S(auth)), PUT(V_S(ws));
        PUT(V_GUID(lt == 3 && ntlm ? &zero_guid : &r->g1)), PUT(V_S("-"));
        PUT(V_S(lt == 3 && ntlm ? "NTLM V2" : "-")), PUT(V_U32(lt == 3 && ntlm ? 128 : 0));
        PUT(V_H64(ppid)), PUT(V_S(pname)), PUT(V_S(ip)), PUT(V_S(port));
        PUT(V_S("%%1833")), PUT(V_S(lt == 10 ? "%%1843" : "-")), PUT(V_SID(&r->null_sid));
        PUT(V_S("-")), PUT(V_S("%%1843")), PUT(V_H64(0));
        PUT(V_S(ev->flags & EVF_ELEVATED ? "%%1842" : "%%1843"));
        break;
    }
    case K_4634:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_U32(ev->ltype));
        break;
    case K_4648: {
        struct who t = who_of(r, ev->u2, ev->host);
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_GUID(&zero_guid)), PUT(V_S(t.name)), PUT(V_S(t.domain)), PUT(V_GUID(&zero_guid));
        PUT(V_S(ev->s1 ? ev->s1 : "localhost")), PUT(V_S(ev->s1 ? ev->s1 : "localhost"));
        PUT(V_H64(ev->pid)), PUT(V_S(ev->s2 ? ev->s2 : "-"));
        PUT(V_S(ev->src ? ip_str(sc[0], ev->src) : "-")), PUT(V_S(ev->src ? "0" : "-"));
        break;
    }
    case K_4672:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S("SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n"
                "\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\t"
                "SeSystemEnvironmentPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\t"
                "SeImpersonatePrivilege\r\n\t\t\tSeDelegateSessionUserImpersonatePrivilege"));
        break;
    case K_4688:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)),
            PUT(V_H64(ev->u == KZ_SIM_NONE ? 0x3e7 : ev->lid));
        PUT(V_H64(ev->pid)), PUT(V_S(ev->s1)), PUT(V_S(ev->ltype >= 2 ? "%%1937" : "%%1938")),
            PUT(V_H64(ev->ppid));
        PUT(V_S(ev->s2)), PUT(V_SID(&r->null_sid)), PUT(V_S("-")), PUT(V_S("-")), PUT(V_H64(0));
        PUT(V_S(ev->s3 ? ev->s3 : "")), PUT(V_SID(ev->ltype >= 3   ? &r->sysil
                                                  : ev->ltype == 2 ? &r->high
                                                                   : &r->medium));
        break;
    case K_4663:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S("Security")), PUT(V_S("File")), PUT(V_S(ev->s1));
        PUT(V_H64(0x100 + 4 * (ev->seq % 4000)));
        PUT(V_S(ev->n == 0x10000 ? "%%1537" : ev->n == 2 ? "%%4417" : "%%4416"));
        PUT(V_H32(ev->n)), PUT(V_H64(ev->pid)), PUT(V_S(ev->s2 ? ev->s2 : "-")), PUT(V_S("S:AI"));
        break;
    case K_4697:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S(ev->s1)), PUT(V_S(ev->s2)), PUT(V_H32(0x10)), PUT(V_U32(ev->n)),
            PUT(V_S("LocalSystem"));
        break;
    case K_4698:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S(ev->s1)), PUT(V_S(ev->s2));
        break;
    case K_4720: {
        const struct kz_sim_user *t = &e->users[ev->u2];
        PUT(V_S(t->sam)), PUT(V_S(KZ_SIM_DOMAIN)), PUT(V_SID(&t->sid));
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S("-")), PUT(V_S(t->sam)), PUT(V_S(t->display)), PUT(V_S(t->upn));
        for (int i = 0; i < 5; i++)
            PUT(V_S("-"));
        PUT(V_S("%%1794")), PUT(V_S("%%1794")), PUT(V_S("513")), PUT(V_S("-"));
        PUT(V_S("0x0")), PUT(V_S("0x15")), PUT(V_S("\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084"));
        PUT(V_S("%%1793")), PUT(V_S("-")), PUT(V_S("%%1797"));
        break;
    }
    case K_4724: {
        const struct kz_sim_user *t = &e->users[ev->u2];
        PUT(V_S(t->sam)), PUT(V_S(KZ_SIM_DOMAIN)), PUT(V_SID(&t->sid));
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        break;
    }
    case K_4728: {
        const struct kz_sim_user *t = &e->users[ev->u2];
        snprintf(r->dn, sizeof r->dn, "CN=%s,CN=Users,DC=corp,DC=example", t->display);
        PUT(V_S(r->dn)), PUT(V_SID(&t->sid)), PUT(V_S(ev->s1));
        PUT(V_S(KZ_SIM_DOMAIN)), PUT(V_SID(&e->domain_admins_sid));
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S("-"));
        break;
    }
    case K_4768:
        PUT(V_S(s.name)), PUT(V_S(KZ_SIM_REALM)), PUT(V_SID(s.sid));
        PUT(V_S("krbtgt")), PUT(V_SID(&e->krbtgt_sid)), PUT(V_H32(0x40810010));
        PUT(V_H32(ev->flags & EVF_FAILED ? 0x18 : 0)), PUT(V_H32(0x12)), PUT(V_S("2"));
        PUT(V_S(ffff_ip(sc[0], ev->src))), PUT(V_S(u_str(sc[1], 49152 + ev->seq % 16000)));
        PUT(V_S("")), PUT(V_S("")), PUT(V_S(""));
        break;
    case K_4769: {
        char *upn = sc[2];
        snprintf(upn, 96, "%s@%s", s.name, KZ_SIM_REALM);
        PUT(V_S(upn)), PUT(V_S(KZ_SIM_REALM));
        PUT(V_S(ev->s1 ? ev->s1 : ev->n < e->nhosts ? r->host_dollar[ev->n] : "krbtgt"));
        PUT(V_SID(ev->n < e->nhosts ? &e->hosts[ev->n].sid : &e->krbtgt_sid));
        PUT(V_H32(0x40810000)), PUT(V_H32(0x12));
        PUT(V_S(ffff_ip(sc[0], ev->src))), PUT(V_S(u_str(sc[1], 49152 + ev->seq % 16000)));
        PUT(V_H32(ev->flags & EVF_FAILED ? 0x1b : 0));
        logon_guid(ev->lid, &r->g1);
        PUT(V_GUID(&r->g1)), PUT(V_S("-"));
        break;
    }
    case K_4776:
        PUT(V_S("MICROSOFT_AUTHENTICATION_PACKAGE_V1_0")), PUT(V_S(s.name));
        PUT(V_S(ev->s1 ? ev->s1 : "-")), PUT(V_H32(ev->flags & EVF_FAILED ? 0xC000006A : 0));
        break;
    case K_5136: {
        uint64_t c = kz_sim_mix(ev->pid);
        r->g1.data1 = (uint32_t)c, r->g1.data2 = (uint16_t)(c >> 32),
        r->g1.data3 = (uint16_t)(c >> 48);
        memcpy(r->g1.data4, &ev->lid, 8);
        uint64_t og = kz_sim_mix(e->seed ^ 0x6b0);
        r->g2.data1 = (uint32_t)og, r->g2.data2 = (uint16_t)(og >> 32),
        r->g2.data3 = (uint16_t)(og >> 48);
        memcpy(r->g2.data4, &og, 8);
        PUT(V_GUID(&r->g1)), PUT(V_S("-"));
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S(KZ_SIM_DNS)), PUT(V_S("%%14676")), PUT(V_S(ev->s1)), PUT(V_GUID(&r->g2));
        PUT(V_S("groupPolicyContainer")), PUT(V_S(ev->s2));
        PUT(V_S(!strcmp(ev->s2, "versionNumber") ? "2.5.5.9" : "2.5.5.12")), PUT(V_S(ev->s3));
        PUT(V_S(ev->ltype ? "%%14675" : "%%14674"));
        break;
    }
    case K_5140:
    case K_5145:
        PUT(V_SID(s.sid)), PUT(V_S(s.name)), PUT(V_S(s.domain)), PUT(V_H64(ev->lid));
        PUT(V_S("File")), PUT(V_S(ip_str(sc[0], ev->src)));
        PUT(V_S(u_str(sc[1], ev->port ? ev->port : 49152 + ev->seq % 16000)));
        PUT(V_S(ev->s1)), PUT(V_S(ev->s2));
        if (ev->kind == K_5145) {
            PUT(V_S(ev->s3));
            uint32_t m = ev->n ? ev->n : 1;
            PUT(V_H32(m == 1 ? 0x120089 : m == 2 ? 0x130197 : 0x110080));
            PUT(V_S(m == 1   ? "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4419\r\n"
                               "\t\t\t\t%%4423\r\n\t\t\t\t"
                    : m == 2 ? "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4417\r\n"
                               "\t\t\t\t%%4418\r\n\t\t\t\t%%4419\r\n\t\t\t\t%%4420\r\n\t\t\t\t"
                             : "%%1537\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4423\r\n\t\t\t\t"));
            PUT(V_S("-"));
        } else {
            PUT(V_H32(1)), PUT(V_S("%%4416\r\n\t\t\t\t"));
        }
        break;
    case K_7045:
        out->process_id = 700 + 4 * (ev->host % 40);
        out->user = s.sid;
        PUT(V_S(ev->s1)), PUT(V_S(ev->s2)), PUT(V_S("user mode service"));
        PUT(V_S(ev->n == 3 ? "demand start" : "auto start")), PUT(V_S("LocalSystem"));
        break;
    case K_WU19: {
        uint64_t c = e->seed;
        for (const char *p = ev->s1; *p;
             p++) /* from the title's text: the same update, the same id */
            c = (c ^ (uint8_t)*p) * 1099511628211ull;
        c = kz_sim_mix(c);
        r->g1.data1 = (uint32_t)c, r->g1.data2 = (uint16_t)(c >> 32),
        r->g1.data3 = (uint16_t)(c >> 48);
        memcpy(r->g1.data4, &c, 8);
        out->user = &r->system_sid;
        PUT(V_S(ev->s1)), PUT(V_GUID(&r->g1)), PUT(V_U32(200 + ev->n % 50));
        break;
    }
    case K_S1: {
        const struct image_info *ii;
        const char *hashes;
        image_meta(r, ev->s1, &ii, &hashes);
        proc_guid(r, ev->host, ev->pid, &r->g1);
        proc_guid(r, ev->host, ev->ppid, &r->g2);
        logon_guid(ev->lid, &r->scratch_guid);
        out->user = &r->system_sid;
        out->process_id = 2000 + 4 * (ev->host % 100);
        PUT(V_S("-")), PUT(V_S(utc_text(sc[0], ev->t))), PUT(V_GUID(&r->g1)), PUT(V_U32(ev->pid));
        PUT(V_S(ev->s1)), PUT(V_S(ii ? ii->version : "-")), PUT(V_S(ii ? ii->description : "-"));
        PUT(V_S(ii ? ii->product : "-")), PUT(V_S(ii ? ii->company : "-"));
        PUT(V_S(ii ? ii->original : "-")), PUT(V_S(ev->s2));
        PUT(V_S(ev->u == KZ_SIM_NONE       ? "C:\\Windows\\system32\\"
                : ev->s4 && ev->ltype >= 2 ? "C:\\Windows\\system32\\"
                                           : "C:\\Users\\Public\\"));
        PUT(V_S(user_q(r, ev->u))), PUT(V_GUID(&r->scratch_guid));
        PUT(V_H64(ev->u == KZ_SIM_NONE ? 0x3e7 : ev->lid));
        PUT(V_U32(ev->u == KZ_SIM_NONE ? 0 : 1 + ev->host % 3));
        PUT(V_S(ev->ltype >= 3 ? "System" : ev->ltype == 2 ? "High" : "Medium"));
        PUT(V_S(hashes)), PUT(V_GUID(&r->g2)), PUT(V_U32(ev->ppid));
        PUT(V_S(ev->s3 ? ev->s3 : "-")), PUT(V_S(ev->s4 ? ev->s4 : "-"));
        PUT(V_S(user_q(r, ev->u)));
        break;
    }
    case K_S3:
        proc_guid(r, ev->host, ev->pid, &r->g1);
        out->user = &r->system_sid;
        out->process_id = 2000 + 4 * (ev->host % 100);
        PUT(V_S("-")), PUT(V_S(utc_text(sc[0], ev->t))), PUT(V_GUID(&r->g1)), PUT(V_U32(ev->pid));
        PUT(V_S(ev->s1)), PUT(V_S(user_q(r, ev->u))), PUT(V_S("tcp"));
        PUT(kz_evtx_v_uint(KZ_EVTX_VT_BOOL, 1)), PUT(kz_evtx_v_uint(KZ_EVTX_VT_BOOL, 0));
        PUT(V_S(h->ip_text)), PUT(V_S(h->fqdn));
        PUT(kz_evtx_v_uint(KZ_EVTX_VT_UINT16, 49152 + ev->seq % 16000)), PUT(V_S("-"));
        PUT(kz_evtx_v_uint(KZ_EVTX_VT_BOOL, 0)), PUT(V_S(ip_str(sc[1], ev->src)));
        PUT(V_S(ev->s2 ? ev->s2 : "-")), PUT(kz_evtx_v_uint(KZ_EVTX_VT_UINT16, ev->port));
        PUT(V_S(ev->port == 443 ? "https" : ev->port == 445 ? "microsoft-ds" : "-"));
        break;
    case K_S10:
        proc_guid(r, ev->host, ev->pid, &r->g1);
        proc_guid(r, ev->host, ev->ppid, &r->g2);
        out->user = &r->system_sid;
        out->process_id = 2000 + 4 * (ev->host % 100);
        PUT(V_S("-")), PUT(V_S(utc_text(sc[0], ev->t))), PUT(V_GUID(&r->g1)), PUT(V_U32(ev->pid));
        PUT(V_U32(ev->pid + 8)), PUT(V_S(ev->s1)), PUT(V_GUID(&r->g2)), PUT(V_U32(ev->ppid));
        PUT(V_S(ev->s2)), sc[1][0] = '0', sc[1][1] = 'x';
        *put_hex(sc[1] + 2, ev->n ? ev->n : 0x1fffff, ev->n > 0xffff ? 6 : 4) = 0;
        PUT(V_S(sc[1]));
        PUT(V_S("C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+"
                "2c13e|C:\\Windows\\System32\\comsvcs.dll+4a1d6|UNKNOWN(00000000001A2B3C)"));
        PUT(V_S(user_q(r, ev->u))), PUT(V_S("NT AUTHORITY\\SYSTEM"));
        break;
    case K_S11: {
        proc_guid(r, ev->host, ev->pid, &r->g1);
        out->user = &r->system_sid;
        out->process_id = 2000 + 4 * (ev->host % 100);
        const char *ut = utc_text(sc[0], ev->t);
        PUT(V_S("-")), PUT(V_S(ut)), PUT(V_GUID(&r->g1)), PUT(V_U32(ev->pid)), PUT(V_S(ev->s1));
        PUT(V_S(ev->s2)), PUT(V_S(ut)), PUT(V_S(user_q(r, ev->u)));
        break;
    }
    case K_S13:
        proc_guid(r, ev->host, ev->pid, &r->g1);
        out->user = &r->system_sid;
        out->process_id = 2000 + 4 * (ev->host % 100);
        PUT(V_S("-")), PUT(V_S("SetValue")), PUT(V_S(utc_text(sc[0], ev->t))), PUT(V_GUID(&r->g1));
        PUT(V_U32(ev->pid)), PUT(V_S(ev->s1)), PUT(V_S(ev->s2)), PUT(V_S(ev->s3));
        PUT(V_S(user_q(r, ev->u)));
        break;
    case K_4104:
    case K_4104W: {
        uint64_t c = kz_sim_mix(ev->seq ^ ((uint64_t)ev->host << 40) ^ (uint64_t)ev->t);
        r->g1.data1 = (uint32_t)c, r->g1.data2 = (uint16_t)(c >> 32),
        r->g1.data3 = (uint16_t)(c >> 48);
        memcpy(r->g1.data4, &c, 8);
        out->user = s.sid;
        out->process_id = ev->pid;
        PUT(kz_evtx_v_int(KZ_EVTX_VT_INT32, 1)), PUT(kz_evtx_v_int(KZ_EVTX_VT_INT32, 1));
        PUT(V_S(ev->s1)), PUT(V_GUID(&r->g1)), PUT(V_S(ev->s2 ? ev->s2 : ""));
        break;
    }
    default:
        return kz_err_set(err, KZ_EUSAGE, "event kind %d is not a Windows event", ev->kind);
    }
#undef PUT
    *nvalues = nv;
    out->nvalues = nv;
    return 0;
}

int sim_render_evtx(struct sim_render *r, struct kz_evtx_writer *w, uint32_t *tmpl,
                    struct sim_ev *ev, struct kz_err *err) {
    if (!tmpl[ev->kind]) {
        uint32_t id;
        int rc = kz_evtx_writer_template(w, &defs[ev->kind], &id, err);
        if (rc) return rc;
        tmpl[ev->kind] = id + 1;
    }
    struct kz_evtx_event out;
    uint32_t nv;
    int rc = build(r, ev, &out, &nv, err);
    if (rc) return rc;
    out.tmpl = tmpl[ev->kind] - 1;
    return kz_evtx_writer_append(w, &out, &ev->rid, err);
}

/* ---- text logs ---- */

static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Local (JST) time pieces of t. */
struct local {
    int64_t y;
    unsigned mo, d;
    int hh, mm, ss;
};
static struct local local_of(kz_time t) {
    struct local l;
    int64_t secs = t / SEC + KZ_SIM_TZ_OFFSET;
    kz_civil_from_days(secs / 86400, &l.y, &l.mo, &l.d);
    int64_t rem = secs % 86400;
    l.hh = (int)(rem / 3600), l.mm = (int)(rem / 60 % 60), l.ss = (int)(rem % 60);
    return l;
}

const char *sim_render_text(struct sim_render *r, const struct sim_ev *ev, size_t *len) {
    char ip[16];
    struct local l = local_of(ev->t);
    int n = 0;
    size_t cap = sizeof r->line;
    switch (ev->kind) {
    case K_NGINX:
        n = snprintf(r->line, cap,
                     "%s - - [%02u/%s/%04lld:%02d:%02d:%02d +0900] \"%s\" %u %llu \"%s\" \"%s\"\n",
                     ip_str(ip, ev->src), l.d, months[l.mo - 1], (long long)l.y, l.hh, l.mm, l.ss,
                     ev->s1, ev->n, (unsigned long long)ev->lid, ev->s3 ? ev->s3 : "-",
                     ev->s2 ? ev->s2 : "-");
        break;
    case K_TOMCAT: {
        char b[24];
        n = snprintf(r->line, cap, "%s - %s [%02u/%s/%04lld:%02d:%02d:%02d +0900] \"%s\" %u %s\n",
                     ip_str(ip, ev->src), ev->s3 ? ev->s3 : "-", l.d, months[l.mo - 1],
                     (long long)l.y, l.hh, l.mm, l.ss, ev->s1, ev->n,
                     ev->lid ? u_str(b, ev->lid) : "-");
        break;
    }
    case K_VPN: {
        char tip[16];
        const char *user = ev->u < r->e->nusers ? r->e->users[ev->u].sam : "unknown";
        /* FortiOS event log fields, in the order FortiOS writes them (Log Message Reference:
         * 39947 tunnel up, 39948 tunnel down, 39426 login fail). */
        n = snprintf(r->line, cap,
                     "date=%04lld-%02u-%02u time=%02d:%02d:%02d devname=\"VPNGW01\" "
                     "devid=\"FG100FTK22004242\" eventtime=%lld tz=\"+0900\" ",
                     (long long)l.y, l.mo, l.d, l.hh, l.mm, l.ss,
                     (long long)ev->t * 100 /* nanoseconds; ticks are 100 ns */);
        if (n < 0) n = 0;
        int m;
        if (ev->n == VPN_UP)
            m = snprintf(
                r->line + n, cap - (size_t)n,
                "logid=\"0101039947\" type=\"event\" subtype=\"vpn\" level=\"information\" "
                "vd=\"root\" logdesc=\"SSL VPN tunnel up\" action=\"tunnel-up\" "
                "tunneltype=\"ssl-tunnel\" tunnelid=%u remip=%s tunnelip=%s user=\"%s\" "
                "group=\"SSLVPN-Users\" dst_host=\"N/A\" reason=\"N/A\" "
                "msg=\"SSL tunnel established\"\n",
                ev->pid, ip_str(ip, ev->src), ip_str(tip, ev->ppid), user);
        else if (ev->n == VPN_DOWN)
            m = snprintf(
                r->line + n, cap - (size_t)n,
                "logid=\"0101039948\" type=\"event\" subtype=\"vpn\" level=\"information\" "
                "vd=\"root\" logdesc=\"SSL VPN tunnel down\" action=\"tunnel-down\" "
                "tunneltype=\"ssl-tunnel\" tunnelid=%u remip=%s tunnelip=%s user=\"%s\" "
                "group=\"SSLVPN-Users\" dst_host=\"N/A\" reason=\"N/A\" duration=%u "
                "sentbyte=%llu rcvdbyte=%llu msg=\"SSL tunnel shutdown\"\n",
                ev->pid, ip_str(ip, ev->src), ip_str(tip, ev->ppid), user, ev->u2,
                (unsigned long long)ev->lid / 7, (unsigned long long)ev->lid);
        else
            m = snprintf(r->line + n, cap - (size_t)n,
                         "logid=\"0101039426\" type=\"event\" subtype=\"vpn\" level=\"alert\" "
                         "vd=\"root\" logdesc=\"SSL VPN login fail\" action=\"ssl-login-fail\" "
                         "tunneltype=\"ssl-web\" tunnelid=0 remip=%s user=\"%s\" group=\"N/A\" "
                         "dst_host=\"N/A\" reason=\"sslvpn_login_unknown_user\" "
                         "msg=\"SSL user failed to logged in\"\n",
                         ip_str(ip, ev->src), user);
        n = m < 0 ? n : n + m;
        break;
    }
    default:
        n = 0;
    }
    if (n < 0) n = 0;
    if ((size_t)n >= cap) { /* cut, but keep one line per event */
        n = (int)cap - 1;
        r->line[n - 1] = '\n';
    }
    *len = (size_t)n;
    return r->line;
}

/* ---- actions as events ---- */

uint32_t sim_pid(struct sim_gen *g) {
    return 4 * kz_sim_rng_range(&g->rng, 200, 16000);
}

uint64_t sim_lid(struct sim_gen *g) {
    return 0x100000 + (kz_sim_rng_next(&g->rng) & 0x3fffffff);
}

static uint32_t dc_for(const struct sim_gen *g, uint32_t host) {
    return g->d->e->wk.dc[host & 1];
}

uint64_t sim_logon(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, int ltype,
                   uint32_t src_ip, const char *src_dev, int flags) {
    const struct kz_sim_estate *e = g->d->e;
    uint64_t lid = sim_lid(g);
    int ntlm = flags & SL_NTLM;
    if (!(flags & SL_NODC)) {
        uint32_t dc = dc_for(g, host);
        /* Who asks the DC: the client for network logons, the machine itself otherwise. */
        uint32_t client = ltype == 3 && src_ip ? src_ip : e->hosts[host].ip;
        kz_time tk = t - SEC / 2;
        if (ntlm) {
            struct sim_ev *x = sim_ev_new(g, K_4776, dc, tk);
            x->u = user;
            x->s1 = src_dev ? src_dev : e->hosts[host].name;
        } else {
            if (flags & SL_TGT) {
                struct sim_ev *x = sim_ev_new(g, K_4768, dc, tk - SEC / 5);
                x->u = user;
                x->src = client;
            }
            struct sim_ev *x = sim_ev_new(g, K_4769, dc, tk);
            x->u = user;
            x->src = client;
            x->n = host; /* the service: host's computer account (rendered NAME$) */
            x->lid = lid;
        }
    }
    struct sim_ev *x = sim_ev_new(g, K_4624, host, t);
    x->u = user;
    x->lid = lid;
    x->ltype = (uint8_t)ltype;
    x->src = src_ip;
    x->s1 = src_dev;
    x->flags = (uint16_t)((ntlm ? EVF_NTLM : 0) | (flags & SL_PRIV ? EVF_ELEVATED : 0));
    if (flags & SL_PRIV) {
        struct sim_ev *p = sim_ev_new(g, K_4672, host, t);
        p->u = user;
        p->lid = lid;
        p->ltype = (uint8_t)ltype; /* not rendered; tells a service's SYSTEM logon */
    }
    return lid;
}

void sim_logoff(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint64_t lid,
                int ltype) {
    struct sim_ev *x = sim_ev_new(g, K_4634, host, t);
    x->u = user;
    x->lid = lid;
    x->ltype = (uint8_t)ltype;
}

uint32_t sim_proc(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint64_t lid,
                  const char *image, const char *cmdline, uint32_t ppid, const char *parent_image,
                  const char *parent_cmd, int integrity) {
    uint32_t pid = sim_pid(g);
    struct sim_ev *x = sim_ev_new(g, K_S1, host, t);
    x->u = user, x->lid = lid, x->pid = pid, x->ppid = ppid;
    x->s1 = image, x->s2 = cmdline, x->s3 = parent_image, x->s4 = parent_cmd;
    x->ltype = (uint8_t)integrity;
    struct sim_ev copy = *x; /* x may move when the buffer grows */
    struct sim_ev *y = sim_ev_new(g, K_4688, host, t);
    uint32_t seq = y->seq;
    *y = copy;
    y->kind = K_4688;
    y->seq = seq;
    return pid;
}

void sim_share_connect(struct sim_gen *g, uint32_t fs, kz_time t, uint32_t user, uint64_t lid,
                       uint32_t src_ip, const char *share, const char *local) {
    struct sim_ev *x = sim_ev_new(g, K_5140, fs, t);
    x->u = user, x->lid = lid, x->src = src_ip, x->s1 = share, x->s2 = local;
}

void sim_share_file(struct sim_gen *g, uint32_t fs, kz_time t, uint32_t user, uint64_t lid,
                    uint32_t src_ip, const char *share, const char *local, const char *rel,
                    uint32_t access) {
    struct sim_ev *x = sim_ev_new(g, K_5145, fs, t);
    x->u = user, x->lid = lid, x->src = src_ip, x->s1 = share, x->s2 = local, x->s3 = rel;
    x->n = access;
}

void sim_file_create(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint32_t pid,
                     const char *image, const char *path) {
    struct sim_ev *x = sim_ev_new(g, K_S11, host, t);
    x->u = user, x->pid = pid, x->s1 = image, x->s2 = path;
}

void sim_web(struct sim_gen *g, kz_time t, uint32_t client_ip, const char *method_path, int status,
             uint32_t bytes, const char *ua, const char *user) {
    const struct kz_sim_estate *e = g->d->e;
    struct sim_ev *x = sim_ev_new(g, K_NGINX, e->wk.proxy, t + 20 * 10000);
    x->src = client_ip, x->s1 = method_path, x->s2 = ua, x->n = (uint32_t)status, x->lid = bytes;
    struct sim_ev *y = sim_ev_new(g, K_TOMCAT, e->wk.portal, t);
    y->src = e->hosts[e->wk.proxy].ip, y->s1 = method_path, y->n = (uint32_t)status;
    y->lid = bytes, y->s3 = user;
}

uint32_t sim_vpn(struct sim_gen *g, kz_time t, kz_time t_end, uint32_t user, uint32_t remote_ip) {
    uint32_t tid = kz_sim_rng_range(&g->rng, 1000, 999999);
    uint32_t tip = 10u << 24 | 212u << 16 | (134 + kz_sim_rng_below(&g->rng, 4)) << 8 |
                   kz_sim_rng_range(&g->rng, 10, 250);
    uint32_t vpn = g->d->e->wk.vpn;
    struct sim_ev *x = sim_ev_new(g, K_VPN, vpn, t);
    x->u = user, x->src = remote_ip, x->n = VPN_UP, x->pid = tid, x->ppid = tip;
    if (t_end > t) {
        struct sim_ev *y = sim_ev_new(g, K_VPN, vpn, t_end);
        y->u = user, y->src = remote_ip, y->n = VPN_DOWN, y->pid = tid, y->ppid = tip;
        y->u2 = (uint32_t)((t_end - t) / SEC);
        y->lid = (uint64_t)kz_sim_rng_range(&g->rng, 2000, 90000) * 1024;
    }
    return tip;
}

/* ---- the same events as Winlogbeat (ECS) JSON lines ---- */

static void json_key(struct kz_buf *b, const char *k) {
    kz_buf_putc(b, '"');
    kz_buf_puts(b, k);
    kz_buf_puts(b, "\":");
}

static void json_str(struct kz_buf *b, const char *s) {
    kz_buf_putc(b, '"');
    kz_buf_put_json_str(b, s, strlen(s));
    kz_buf_putc(b, '"');
}

static void guid_text(char *o, const struct kz_evtx_guid *g) {
    char *p = o;
    *p++ = '{';
    p = put_hex(p, g->data1, 8), *p++ = '-';
    p = put_hex(p, g->data2, 4), *p++ = '-';
    p = put_hex(p, g->data3, 4), *p++ = '-';
    for (int i = 0; i < 8; i++) {
        if (i == 2) *p++ = '-';
        p = put_hex(p, g->data4[i], 2);
    }
    *p++ = '}';
    *p = 0;
}

static void sid_text(char *o, size_t cap, const struct kz_evtx_sid *sid) {
    int n = snprintf(o, cap, "S-%u-%llu", sid->revision, (unsigned long long)sid->authority);
    for (int i = 0; i < sid->count && n > 0 && (size_t)n < cap; i++)
        n += snprintf(o + n, cap - (size_t)n, "-%u", (unsigned)sid->sub[i]);
}

/* A value as Windows renders it in text (what Winlogbeat puts in event_data). */
static void json_value(struct kz_buf *b, const struct kz_evtx_value *v) {
    char t[192];
    switch (v->type) {
    case KZ_EVTX_VT_WSTRING:
    case KZ_EVTX_VT_ASTRING:
        json_str(b, v->v.s ? v->v.s : "");
        return;
    case KZ_EVTX_VT_HEXINT32:
    case KZ_EVTX_VT_HEXINT64:
        snprintf(t, sizeof t, "0x%llx", (unsigned long long)v->v.u);
        break;
    case KZ_EVTX_VT_INT8:
    case KZ_EVTX_VT_INT16:
    case KZ_EVTX_VT_INT32:
    case KZ_EVTX_VT_INT64:
        snprintf(t, sizeof t, "%lld", (long long)v->v.i);
        break;
    case KZ_EVTX_VT_BOOL:
        snprintf(t, sizeof t, "%s", v->v.u ? "true" : "false");
        break;
    case KZ_EVTX_VT_GUID:
        guid_text(t, v->v.guid);
        break;
    case KZ_EVTX_VT_SID:
        sid_text(t, sizeof t, v->v.sid);
        break;
    case KZ_EVTX_VT_NULL:
        t[0] = 0;
        break;
    default:
        snprintf(t, sizeof t, "%llu", (unsigned long long)v->v.u);
    }
    json_str(b, t);
}

const char *sim_render_json(struct sim_render *r, struct sim_ev *ev, uint64_t record_id,
                            size_t *len, struct kz_err *err) {
    struct kz_evtx_event out;
    uint32_t nv;
    if (build(r, ev, &out, &nv, err)) return NULL;
    const struct kz_evtx_template_def *def = &defs[ev->kind];
    struct kz_buf *b = &r->json;
    char t[KZ_TIME_TEXT_MAX + 8], g[48];
    kz_buf_clear(b);
    kz_buf_puts(b, "{\"@timestamp\":\"");
    kz_buf_append(b, t, kz_time_format(ev->t, 3, t));
    kz_buf_puts(b, "\",\"agent\":{\"type\":\"winlogbeat\",\"version\":\"8.12.0\"},"
                   "\"ecs\":{\"version\":\"8.0.0\"},\"event\":{\"code\":\"");
    kz_buf_put_u64(b, def->event_id);
    kz_buf_puts(b, "\",\"kind\":\"event\",\"provider\":");
    json_str(b, def->provider);
    kz_buf_puts(b, "},\"host\":{\"name\":");
    json_str(b, out.computer);
    kz_buf_puts(b, "},\"log\":{\"level\":\"");
    kz_buf_puts(b, def->level == 3 ? "warning" : def->level == 5 ? "verbose" : "information");
    kz_buf_puts(b, "\"},\"winlog\":{\"api\":\"wineventlog\",\"channel\":");
    json_str(b, def->channel);
    kz_buf_puts(b, ",\"computer_name\":");
    json_str(b, out.computer);
    kz_buf_puts(b, ",\"event_id\":\"");
    kz_buf_put_u64(b, def->event_id);
    kz_buf_puts(b, "\",\"provider_name\":");
    json_str(b, def->provider);
    if (def->provider_guid) {
        guid_text(g, def->provider_guid);
        kz_buf_puts(b, ",\"provider_guid\":");
        json_str(b, g);
    }
    kz_buf_puts(b, ",\"record_id\":");
    kz_buf_put_u64(b, record_id);
    kz_buf_puts(b, ",\"process\":{\"pid\":");
    kz_buf_put_u64(b, out.process_id);
    kz_buf_puts(b, ",\"thread\":{\"id\":");
    kz_buf_put_u64(b, out.thread_id);
    kz_buf_puts(b, "}},\"version\":");
    kz_buf_put_u64(b, def->version);
    kz_buf_puts(b, ",\"task\":");
    kz_buf_put_u64(b, def->task);
    kz_buf_puts(b, ",\"opcode\":");
    kz_buf_put_u64(b, def->opcode);
    kz_buf_printf(b, ",\"keywords\":\"0x%llx\"", (unsigned long long)def->keywords);
    if (out.user) {
        sid_text(g, sizeof g, out.user);
        kz_buf_puts(b, ",\"user\":{\"identifier\":");
        json_str(b, g);
        kz_buf_putc(b, '}');
    }
    kz_buf_puts(b, ",\"event_data\":{");
    for (uint32_t i = 0; i < nv && i < def->nitems; i++) {
        if (i) kz_buf_putc(b, ',');
        json_key(b, def->items[i].name);
        json_value(b, &r->v[i]);
    }
    kz_buf_puts(b, "}}}\n");
    if (b->failed) {
        kz_err_set(err, KZ_ELIMIT, "an event does not fit a JSON line");
        return NULL;
    }
    ev->rid = record_id;
    *len = b->len;
    return b->data;
}
