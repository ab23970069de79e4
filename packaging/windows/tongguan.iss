; Inno Setup script: the Windows installer of the desktop (wall and desk) and, as an optional
; component, the backend's command line. NOT TESTED: written for Windows 10/11 x64 and Inno
; Setup 6 from the build recipe in packaging/README.md ("Windows"); no Windows machine here.
;
;   iscc /DAppVersion=0.1.0 packaging\windows\tongguan.iss
;
; Input: dist\tongguan\ and dist\tongguan-dispatch\ (packaging\build.py on Windows).
; Output: dist\tongguan-setup-VERSION.exe.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Dist "..\..\dist"

[Setup]
AppId={{6F1C7E3A-2B4D-4C59-9A8E-1D3F5B7C9E21}
AppName=Tongguan 通观
AppVersion={#AppVersion}
AppPublisher=Tongguan
DefaultDirName={autopf}\Tongguan
DefaultGroupName=Tongguan 通观
OutputDir={#Dist}
OutputBaseFilename=tongguan-setup-{#AppVersion}
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2/normal
SolidCompression=no
; Qt and QtWebEngine need Windows 10 1809 or later.
MinVersion=10.0.17763
PrivilegesRequired=admin
WizardStyle=modern
UninstallDisplayIcon={app}\tongguan\tongguan.exe

[Languages]
Name: "zh"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
Name: "en"; MessagesFile: "compiler:Default.isl"

[Types]
Name: "desktop"; Description: "Wall and desk"
Name: "full"; Description: "Wall, desk and the backend's command line"

[Components]
Name: "desktop"; Description: "Tongguan wall and desk (tongguan.exe)"; Types: desktop full; Flags: fixed
Name: "backend"; Description: "The backend's command line (tongguan-dispatch.exe)"; Types: full

[Tasks]
Name: "kiosk"; Description: "Start the wall full screen at every login (kiosk)"; Flags: unchecked

[Files]
Source: "{#Dist}\tongguan\*"; DestDir: "{app}\tongguan"; Components: desktop; Flags: recursesubdirs createallsubdirs ignoreversion
Source: "{#Dist}\tongguan-dispatch\*"; DestDir: "{app}\tongguan-dispatch"; Components: backend; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\通观大屏 Wall"; Filename: "{app}\tongguan\tongguan.exe"; WorkingDir: "{app}\tongguan"
Name: "{group}\通观中屏 Desk"; Filename: "{app}\tongguan\tongguan.exe"; Parameters: "desk"; WorkingDir: "{app}\tongguan"
Name: "{group}\{cm:UninstallProgram,Tongguan}"; Filename: "{uninstallexe}"
; The kiosk wall at login (as the .deb's XDG autostart entry; screen and tour: edit the
; shortcut's arguments, e.g. --screen 1 --tour 30).
Name: "{commonstartup}\通观大屏 Wall (kiosk)"; Filename: "{app}\tongguan\tongguan.exe"; Parameters: "--kiosk"; WorkingDir: "{app}\tongguan"; Tasks: kiosk

[Registry]
; The backend's command line on PATH for every user when installed.
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}\tongguan-dispatch"; Components: backend; Check: NeedsAddPath(ExpandConstant('{app}\tongguan-dispatch'))

[Run]
Filename: "{app}\tongguan\tongguan.exe"; Description: "{cm:LaunchProgram,Tongguan}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
