; Inno Setup 6 script: STM-Denoise-Setup.exe from the PyInstaller bundle dist\STM-Denoise\.
;
;   py installer\build.py --smoke-test                       (on Windows: builds dist\STM-Denoise\)
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.2.4 installer\windows\stmdenoise.iss
;   -> dist\STM-Denoise-Setup.exe  (CUDA edition: add /DEdition=cuda -> dist\STM-Denoise-CUDA-Setup.exe)
;
; Installs per user without administrator rights (an admin may choose "all users"), adds a Start
; menu entry and an optional desktop shortcut, "Open with STM Denoise" for .sxm and Createc .dat
; scans, and an uninstaller (Settings > Apps, or the Start menu). installer/README.md reviews each
; line against the Linux bundle's layout.

#ifndef AppVersion
  #define AppVersion "0.2.4"
#endif
#ifndef Edition
  #define Edition "cpu"
#endif
#define AppName "STM Denoise"
#define AppExe "stmdenoise-gui.exe"
#define Bundle "..\..\dist\STM-Denoise"
#define ProgId "STMDenoise.Scan"
#if Edition == "cuda"
  #define SetupName "STM-Denoise-CUDA-Setup"
#else
  #define SetupName "STM-Denoise-Setup"
#endif

[Setup]
AppId={{5B0C7E7A-3E0B-4C52-9B8E-2F6D8C1A9E20}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion} ({#Edition})
AppPublisher=STM Denoise developers
DefaultDirName={autopf}\STM Denoise
DefaultGroupName=STM Denoise
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#SetupName}
SetupIconFile=..\..\build\icons\stmdenoise.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "sxmdefault"; Description: "Open Nanonis .sxm scans with STM Denoise on double-click (when no other program is set)"; GroupDescription: "File types:"

[Files]
; the whole one-folder bundle: the two executables at the top, Python/Qt/torch/models/resources in _internal
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs; Excludes: "linux\*"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{userdocs}"; Comment: "Denoise STM scans"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Registry]
; the program's file class: what "Open with STM Denoise" runs (one process per file; a running
; window takes the file over, see stmdenoise/gui/single_instance.py)
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "STM scan"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; .sxm and .dat list STM Denoise under "Open with"; .dat keeps its current default program
Root: HKA; Subkey: "Software\Classes\.sxm\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.dat\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
; double-click opens .sxm with STM Denoise only where no program is set yet (never overrides a choice)
Root: HKA; Subkey: "Software\Classes\.sxm"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: createvalueifdoesntexist uninsdeletevalue; Tasks: sxmdefault
; an explicit "Open with STM Denoise" entry in the right-click menu of .sxm and .dat files
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.sxm\shell\STMDenoise"; ValueType: string; ValueName: ""; ValueData: "Open with STM Denoise"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.sxm\shell\STMDenoise"; ValueType: string; ValueName: "Icon"; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.sxm\shell\STMDenoise\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.dat\shell\STMDenoise"; ValueType: string; ValueName: ""; ValueData: "Open with STM Denoise"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.dat\shell\STMDenoise"; ValueType: string; ValueName: "Icon"; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\.dat\shell\STMDenoise\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; the "Open with > Choose another app" list
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".sxm"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".dat"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete]: the app writes nothing into {app}; its settings (registry: HKCU\Software\stmdenoise\STM Denoise),
; logs, ONNX cache and the user's models live in %LOCALAPPDATA%\stmdenoise and are kept on uninstall.
