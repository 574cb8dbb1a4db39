# Creates a desktop shortcut that starts the GUI without a console window
# (stmdenoise-gui.exe is the gui-script pip generates for the project's [project.gui-scripts] entry).
param([Parameter(Mandatory = $true)][string]$Root)
$target = Join-Path $Root ".venv\Scripts\stmdenoise-gui.exe"
if (-not (Test-Path $target)) { Write-Error "missing $target - run 'py bootstrap.py install' first"; exit 1 }
$shell = New-Object -ComObject WScript.Shell
$lnk = $shell.CreateShortcut((Join-Path ([Environment]::GetFolderPath("Desktop")) "STM Denoise.lnk"))
$lnk.TargetPath = $target
$lnk.WorkingDirectory = $Root
$icon = Join-Path $Root "resources\icons\stmdenoise.ico"
if (Test-Path $icon) { $lnk.IconLocation = $icon }
$lnk.Description = "STM Denoise - PDA-Net denoising for STM scans"
$lnk.Save()
