@echo off
rem Double-click to install STM Denoise for the current user and put a shortcut on the desktop.
rem Needs Python 3.10+ from python.org (tick "Add python.exe to PATH" or use the py launcher).
setlocal
cd /d "%~dp0\..\.."
where py >nul 2>nul && (set PY=py -3) || (set PY=python)
%PY% bootstrap.py install || (echo Installation failed, see the messages above. & pause & exit /b 1)
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0make_shortcut.ps1" -Root "%CD%"
echo STM Denoise is installed. Start it from the "STM Denoise" icon on your desktop.
pause
