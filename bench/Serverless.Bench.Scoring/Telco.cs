using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Scoring;
using Serverless.Testing;

/// <summary>
/// The IBM telco churn table resampled to 1M rows (bench/telco/prepare.py), scored by the app on the local host from
/// its drop into score-in/ to its summary.json, next to scikit-learn scoring the same file CSV to CSV (bench/telco/peer.py),
/// in turns, in one run; then where the app's time goes, stage by stage, and the read-parse-write limit.
/// </summary>
internal static class Telco
{
    private const string Key = "bench-key";

    private static readonly (string Model, string Trainer, string Peer, string PeerName)[] Pairs =
    [
        ("telco-trees", "LightGbm", "hgb", "HistGradientBoostingClassifier"),
        ("telco-linear", "Lbfgs", "lr", "LogisticRegression"),
    ];

    public static async Task RunAsync(string folder, int runs)
    {
        var score = Path.Combine(folder, "score.csv");
        var azurite = await AzuriteFixture.StartOwnAsync();
        var port = FreePort();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["TASKHUB_NAME"] = "TelcoBench",
            ["RetrainSchedule"] = "0 0 3 1 1 *",
            ["LocalHost__Keys__Function"] = Key,
            ["LocalHost__Http__Port"] = port.ToString(CultureInfo.InvariantCulture),
        };
        var host = await HostProcess.StartAsync(settings, TimeSpan.FromMinutes(2), HostProcess.RealApp);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"), Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Add("x-functions-key", Key);
            (await http.PutAsync("datasets/telco.csv", new StreamContent(File.OpenRead(Path.Combine(folder, "train.csv"))))).EnsureSuccessStatusCode();
            foreach (var (model, trainer, _, _) in Pairs)
            {
                await TrainAsync(http, model, trainer);
            }

            var blobs = new BlobServiceClient(azurite.ConnectionString);
            if (runs > 0)
            {
                await CompareAsync(folder, blobs, runs);
                await StagesAsync(azurite.ConnectionString, blobs, score);
            }

            var large = Path.Combine(folder, "large.csv");
            if (File.Exists(large))
            {
                await host.DisposeAsync();
                host = await LargeAsync(large, blobs, settings);
            }
        }
        finally
        {
            await host.DisposeAsync();
            await azurite.DisposeAsync();
        }
    }

    /// <summary>The process's peak resident set (VmHWM), in MiB.</summary>
    private static double PeakMiB(int pid) =>
        double.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;

    /// <summary>The app and the peer in turns, a warm-up and <paramref name="runs"/> runs each; prints the medians.</summary>
    private static async Task CompareAsync(string folder, BlobServiceClient blobs, int runs)
    {
        var score = Path.Combine(folder, "score.csv");
        var results = Pairs.ToDictionary(p => p.Model, _ => new List<(double App, double Detect, double Scoring, double Peer)>());
        Console.WriteLine($"Input: {new FileInfo(score).Length / 1048576.0:0} MiB. Each run: the app from the upload's end to summary.json 'scored' (detected: summary 'scoring'), then the peer CSV to CSV.");
        for (var run = 0; run <= runs; run++)
        {
            foreach (var (model, _, peer, _) in Pairs)
            {
                var (app, detect, scoring) = await DropAsync(blobs, model, score, $"run-{run}.csv");
                var peerSeconds = Peer(folder, peer);
                Console.WriteLine($"{(run == 0 ? "warm-up" : $"run {run}")} {model}: app {app:0.00} s (detected after {detect:0.00} s, scoring {scoring:0.00} s), scikit-learn {peerSeconds:0.00} s");
                if (run > 0)
                {
                    results[model].Add((app, detect, scoring, peerSeconds));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| model | app: drop to summary | detected | scoring (durationSeconds) | the rest (header check, drift, summary) | scikit-learn CSV to CSV | app's speed-up |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (model, trainer, _, peerName) in Pairs)
        {
            var r = results[model];
            var (app, scoring, peer) = (Median(r.Select(x => x.App)), Median(r.Select(x => x.Scoring)), Median(r.Select(x => x.Peer)));
            var (detect, rest) = (Median(r.Select(x => x.Detect)), Median(r.Select(x => x.App - x.Detect - x.Scoring)));
            Console.WriteLine($"| {trainer} vs {peerName} | **{app:0.00} s** ({Range(r.Select(x => x.App))}) | {detect:0.00} s | {scoring:0.00} s | {rest:0.00} s | **{peer:0.00} s** ({Range(r.Select(x => x.Peer))}) | **{peer / app:0.0}×** |");
        }
    }

    /// <summary>The 1 GiB file both ways, each on a fresh host so its peak memory is the file's alone; returns the last host.</summary>
    private static async Task<HostProcess> LargeAsync(string large, BlobServiceClient blobs, Dictionary<string, string> settings)
    {
        HostProcess? host = null;
        var rows = File.ReadLines(large).LongCount() - 1;
        Console.WriteLine();
        Console.WriteLine($"Large file, {new FileInfo(large).Length / 1048576.0:N0} MiB, {rows:N0} rows, LightGbm, each on a fresh host (so the peak is the file's alone):");
        Console.WriteLine("| path | drop to summary | rows/s | scoring (durationSeconds) | host's peak resident memory |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (path, fanOutBytes) in new[] { ("in parts over activities (`ScoreBatch`, the default over 512 MiB)", "536870912"), ("one pass in the blob trigger (`Pipeline__FanOutScoringBytes` raised)", "4294967296") })
        {
            await (host?.DisposeAsync() ?? ValueTask.CompletedTask);
            host = await HostProcess.StartAsync(new Dictionary<string, string>(settings) { ["Pipeline__FanOutScoringBytes"] = fanOutBytes }, TimeSpan.FromMinutes(2), HostProcess.RealApp);
            var (seconds, _, scoring) = await DropAsync(blobs, "telco-trees", large, $"large-{fanOutBytes}.csv");
            Console.WriteLine($"| {path} | {seconds:0.0} s | {rows / seconds:N0} | {scoring:0.0} s | {PeakMiB(host.Id):N0} MiB |");
        }

        return host!;
    }

    private static async Task TrainAsync(HttpClient http, string model, string trainer)
    {
        var request = new
        {
            dataset = "telco.csv",
            label = "churn",
            sweep = new { trainers = new[] { trainer }, sampler = "random", maxTrials = 1, seed = 1, searchSpaces = new Dictionary<string, Dictionary<string, string>>
            {
                [trainer] = trainer == "LightGbm" ? new() { ["numberOfIterations"] = "choice(100)", ["numberOfLeaves"] = "choice(31)" } : new() { ["l2Regularization"] = "choice(1)" },
            } },
        };
        var started = await http.PostAsJsonAsync($"models/{model}/train", request);
        var body = await started.Content.ReadFromJsonAsync<JsonElement>();
        if (!started.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Training {model} was refused: {body}");
        }

        // The status address carries its own key (the Durable extension's system key), as the Functions host gives it.
        var status = body.GetProperty("statusQueryGetUri").GetString()!;
        using var plain = new HttpClient();
        while (true)
        {
            var state = await plain.GetFromJsonAsync<JsonElement>(status);
            var runtime = state.GetProperty("runtimeStatus").GetString();
            if (runtime is "Completed")
            {
                return;
            }

            if (runtime is "Failed" or "Terminated")
            {
                throw new InvalidOperationException($"Training {model} {runtime}: {state}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Uploads the file to score-in/{model}/ and waits for its summary: seconds to 'scored', to 'scoring' (detected), and the scoring itself.</summary>
    private static async Task<(double App, double Detect, double Scoring)> DropAsync(BlobServiceClient blobs, string model, string path, string file)
    {
        var name = $"{model}/{file}";
        await blobs.GetBlobContainerClient("score-in").GetBlobClient(name).UploadAsync(path, overwrite: true);
        var clock = Stopwatch.StartNew();
        var summary = blobs.GetBlobContainerClient("score-out").GetBlobClient($"{name}/summary.json");
        double? detected = null;
        while (true)
        {
            if (await summary.ExistsAsync())
            {
                var json = JsonDocument.Parse((await summary.DownloadContentAsync()).Value.Content.ToString()).RootElement;
                var status = json.GetProperty("status").GetString();
                detected ??= clock.Elapsed.TotalSeconds;
                if (status == "scored")
                {
                    return (clock.Elapsed.TotalSeconds, detected.Value, json.GetProperty("durationSeconds").GetDouble());
                }

                if (status is "failed" or "rejected")
                {
                    throw new InvalidOperationException($"{name}: {json}");
                }
            }

            await Task.Delay(10);
        }
    }

    private static double Peer(string folder, string model)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, WorkingDirectory = RepositoryPaths.Root() };
        foreach (var argument in new[] { "bench/telco/peer.py", "score", folder, model })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Where the time goes: the models from the app's registry scoring the file on this machine, without the host.</summary>
    private static async Task StagesAsync(string connectionString, BlobServiceClient blobs, string score)
    {
        var input = blobs.GetBlobContainerClient("score-in").GetBlobClient("telco-trees/run-1.csv");
        var clock = Stopwatch.StartNew();
        await input.DownloadToAsync(Stream.Null);
        var download = clock.Elapsed.TotalSeconds;
        var output = blobs.GetBlobContainerClient("score-out").GetBlobClient("telco-trees/run-1.csv/predictions.csv");
        var predictionsBytes = (await output.GetPropertiesAsync()).Value.ContentLength;
        clock.Restart();
        await using (var upload = await blobs.GetBlobContainerClient("score-out").GetBlobClient("bench/upload.csv").OpenWriteAsync(true, new Azure.Storage.Blobs.Models.BlobOpenWriteOptions { BufferSize = 4 << 20 }))
        {
            var block = new byte[1 << 20];
            for (long written = 0; written < predictionsBytes; written += block.Length)
            {
                await upload.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, predictionsBytes - written)));
            }
        }

        var uploadSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"Azurite: downloading the {new FileInfo(score).Length / 1048576.0:0} MiB input {download:0.00} s; uploading {predictionsBytes / 1048576.0:0} MiB of predictions {uploadSeconds:0.00} s.");

        var registry = new ModelRegistry(new TableServiceClient(connectionString), blobs.GetBlobContainerClient("models"), TimeProvider.System);
        var cache = new ModelCache(registry);
        var header = File.ReadLines(score).First();
        foreach (var (model, trainer, _, _) in Pairs)
        {
            var loaded = (await cache.GetByAliasAsync(model, "champion", CancellationToken.None))!;
            var batch = loaded.Batch;
            Console.WriteLine();
            Console.WriteLine($"{trainer}, local file to local file (page cache), {Environment.ProcessorCount} cores unless said:");
            Console.WriteLine("| pass | seconds | rows/s |");
            Console.WriteLine("|---|---|---|");
            foreach (var (what, parseOnly, cores) in new[] { ("read, split, write row and key (the limit)", true, Environment.ProcessorCount), ("scoring", false, Environment.ProcessorCount), ("scoring, one core", false, 1) })
            {
                batch.ParseOnly = parseOnly;
                var seconds = new List<double>();
                for (var i = 0; i < 3; i++)
                {
                    seconds.Add((await ScoreFileAsync(batch, score, header, cores)).TotalSeconds);
                }

                Console.WriteLine($"| {what} | {Median(seconds):0.00} | {1_000_000 / Median(seconds):N0} |");
            }

            batch.ParseOnly = false;
            var stages = batch.Stages = new ScoringStages();
            var total = await ScoreFileAsync(batch, score, header, 1);
            batch.Stages = null;
            Console.WriteLine($"| one core, timed per stage (timestamps add about 100 ns a row) | {total.TotalSeconds:0.00} | |");
            Console.WriteLine();
            Console.WriteLine("| stage (one core) | seconds | share |");
            Console.WriteLine("|---|---|---|");
            var sum = stages.Totals.Sum(t => t.TotalSeconds);
            Console.WriteLine($"| chunking, UTF-8 decoding, writing out (the rest) | {total.TotalSeconds - sum:0.00} | {100 * (total.TotalSeconds - sum) / total.TotalSeconds:0}% |");
            foreach (var (name, time) in ScoringStages.Names.Zip(stages.Totals))
            {
                Console.WriteLine($"| {name} | {time.TotalSeconds:0.00} | {100 * time.TotalSeconds / total.TotalSeconds:0}% |");
            }
        }
    }

    private static async Task<TimeSpan> ScoreFileAsync(BatchScorer batch, string path, string header, int cores)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var headerBytes = System.Text.Encoding.UTF8.GetByteCount(header + "\n");
        input.Position = headerBytes;
        var output = Path.Combine(Path.GetDirectoryName(path)!, "app-predictions.csv");
        await using var predictions = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        var clock = Stopwatch.StartNew();
        await batch.ScoreAsync(input, header, 2, "customer_id", predictions, Stream.Null, cores, CancellationToken.None);
        return clock.Elapsed;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Range(IEnumerable<double> values) => $"{values.Min():0.00}–{values.Max():0.00}";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
