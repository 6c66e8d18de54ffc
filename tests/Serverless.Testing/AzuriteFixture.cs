using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Serverless.Testing;

/// <summary>
/// A real Azurite (blob, queue, table) for a test collection: started from the repository's own
/// <c>node_modules</c> (<c>npm ci</c> installs it) on free loopback ports, in memory, and stopped afterwards.
/// Tests share it and keep apart by using their own container, queue and host id names. A test that stops storage
/// starts its own (<see cref="StartOwnAsync"/>), kept on disk so that a restart finds what was there.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's published, well-known development account; it opens nothing outside this emulator.
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly StringBuilder _output = new();
    private readonly (int Blob, int Queue, int Table) _ports = (FreePort(), FreePort(), FreePort());
    private string? _location;
    private Process? _process;

    /// <summary>The connection string of this Azurite.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>An Azurite of the caller's own, kept on disk, that it may stop and start again (on the same ports).</summary>
    public static async Task<AzuriteFixture> StartOwnAsync()
    {
        var azurite = new AzuriteFixture { _location = Directory.CreateTempSubdirectory("azurite-").FullName };
        await azurite.InitializeAsync();
        return azurite;
    }

    public async Task InitializeAsync()
    {
        var root = RepositoryPaths.Root();
        var entry = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(entry))
        {
            throw new InvalidOperationException($"Azurite is not installed at {entry}. Run 'npm ci' in the repository root first.");
        }

        var (blob, queue, table) = _ports;
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                entry, "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
                "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
                "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        if (_location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_location);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started; is Node.js installed?");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in new[] { blob, queue, table })
        {
            while (!await AcceptsAsync(port))
            {
                if (_process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Azurite did not start on port {port}. Output:\n{Output}");
                }

                await Task.Delay(100);
            }
        }

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{AccountName};QueueEndpoint=http://127.0.0.1:{queue}/{AccountName};TableEndpoint=http://127.0.0.1:{table}/{AccountName};";
    }

    /// <summary>
    /// Stops Azurite, as an outage does: every call to storage is refused until <see cref="InitializeAsync"/> runs
    /// again. One kept on disk gets SIGTERM, so it saves what it holds (it writes its files every few seconds).
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            if (_location is not null)
            {
                using var term = Process.Start("kill", ["-TERM", $"{_process.Id}"]);
                await term.WaitForExitAsync();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            else
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (_location is not null)
        {
            Directory.Delete(_location, recursive: true);
        }
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
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
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
