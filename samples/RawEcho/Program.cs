using System;
using System.Globalization;
using RawEcho;

// RawEcho [PORT]: this OS's echo server on 127.0.0.1:PORT (default 9000) until Ctrl-C or SIGTERM. Each server class
// is marked with its OS ([SupportedOSPlatform]); the OperatingSystem checks here are the guards CA1416 reads.
ushort port = 9000;
if (args.Length > 0)
    port = ushort.Parse(args[0], CultureInfo.InvariantCulture);
if (OperatingSystem.IsLinux())
    return EpollEcho.Run(port);
if (OperatingSystem.IsMacOS())
    return KqueueEcho.Run(port);
if (OperatingSystem.IsWindows())
    return WinsockEcho.Run(port);
Console.Error.WriteLine("RawEcho: Syscalls.Bindings serves Linux, macOS and Windows, not this OS");
return 2;
