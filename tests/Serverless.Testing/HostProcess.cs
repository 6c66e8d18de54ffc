using System.Diagnostics;
using System.Text;

namespace Serverless.Testing;

/// <summary>
/// A Functions app on the local host in a process of its own, so a test or a benchmark can kill it as a crash does
/// (SIGKILL: no shutdown, nothing released) and start another: the test app (<c>tests/Serverless.LocalHost.TestApp</c>)
/// by default, or the real app as <c>src/Serverless.LocalHost</c> runs it (<see cref="RealApp"/>).
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    /// <summary>The test app's project folder and assembly.</summary>
    public static readonly (string Folder, string Assembly) TestApp = ("tests/Serverless.LocalHost.TestApp", "Serverless.LocalHost.TestApp");

    /// <summary>The app itself on the local host, the program the README's run command starts.</summary>
    public static readonly (string Folder, string Assembly) RealApp = ("src/Serverless.LocalHost", "Serverless.LocalHost");

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Text, TaskCompletionSource Seen)> _awaited = [];

    private HostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a host with <paramref name="settings"/> as environment variables; returns once it has started.</summary>
    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> settings, TimeSpan patience, (string Folder, string Assembly)? app = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { AppPath(app ?? TestApp) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        start.Environment["LocalHost__Http__Port"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started."));
        var started = await Task.WhenAny(host._started.Task, host._process.WaitForExitAsync(), Task.Delay(patience));
        if (started != host._started.Task)
        {
            var output = host.Output;
            await host.DisposeAsync();
            throw new InvalidOperationException($"The test host did not start within {patience.TotalSeconds:0} s. Output:\n{output}");
        }

        return host;
    }

    /// <summary>Completes when the process has written (or writes) a line containing <paramref name="text"/>.</summary>
    public Task WaitForLineAsync(string text, TimeSpan patience)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            _awaited.Add((text, seen));
        }

        return seen.Task.WaitAsync(patience);
    }

    /// <summary>Kills the process at once, as a crash or the OOM killer does: SIGKILL on Linux.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    /// <summary>The app's build output, in the configuration and framework of the calling program's own.</summary>
    private static string AppPath((string Folder, string Assembly) project)
    {
        var ours = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(ours);
        var configuration = Path.GetFileName(Path.GetDirectoryName(ours)!);
        var app = Path.Combine(RepositoryPaths.Root(), project.Folder, "bin", configuration, framework, project.Assembly + ".dll");
        return File.Exists(app) ? app : throw new FileNotFoundException($"The app is not built at {app}; build the solution first.", app);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (text, seen) in _awaited.Where(a => line.Contains(a.Text, StringComparison.Ordinal)))
            {
                seen.TrySetResult();
            }
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}
