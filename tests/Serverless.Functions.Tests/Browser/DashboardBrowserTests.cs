using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PuppeteerSharp;
using Serverless.Functions.Hosting;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Browser;

/// <summary>
/// The dashboard in a real browser (Debian's chromium, headless, driven over the DevTools protocol): the sample model
/// trained and a file scored, then a user's path through the page, with screenshots under <c>artifacts/dashboard/</c>
/// and no error in the browser's console.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardBrowserTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _model = $"churn-{Guid.NewGuid():N}"[..14];
    private readonly string _output = $"out-{Guid.NewGuid():N}"[..24];
    private readonly List<string> _consoleErrors = [];
    private TestFunctionsHost _host = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await AppUnderTest.StartHostAsync(azurite.ConnectionString, _output);
        Assert.True(File.Exists(Chromium), $"The browser test needs Debian's chromium at {Chromium}: apt-get install chromium (scripts/test.sh does it).");
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Dashboard_SampleModelRunTrialsAndScoringJob_ShownWithoutConsoleErrors()
    {
        var app = new AppUnderTest(_host.Http, azurite.ConnectionString, _model, _output);
        var request = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root(), "samples", "training", "request.json")))!;
        request["dataset"] = JsonSerializer.SerializeToElement($"{_model}.csv");
        await app.UploadDatasetAsync(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root(), "samples", "training", "churn.csv")));
        using var started = await _host.Http.PostAsJsonAsync($"api/models/{_model}/train", request);
        var statusUrl = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("statusQueryGetUri").GetString()!;
        var run = await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        var runId = run.GetProperty("instanceId").GetString()!;
        var scored = await app.ScoreAsync("customers.csv", await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root(), "samples", "scoring", "customers.csv")));
        Assert.Equal("Completed", run.GetProperty("runtimeStatus").GetString());
        Assert.Equal("scored", scored.GetProperty("status").GetString());

        await using var page = await _browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 900 });
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
            {
                _consoleErrors.Add($"{e.Message.Text} ({e.Message.Location?.URL})");
            }
        };
        page.PageError += (_, e) => _consoleErrors.Add(e.Message);

        // The first visit asks for the key; nothing is shown without it.
        await page.GoToAsync(new Uri(_host.Http.BaseAddress!, "api/ui").ToString());
        await page.WaitForSelectorAsync("#key-dialog[open]", new WaitForSelectorOptions { Timeout = (int)Patience.TotalMilliseconds });
        await page.TypeAsync("#key-input", TestFunctionsHost.FunctionKey);
        await page.ClickAsync("#key-form button[type=submit]");
        await page.WaitForSelectorAsync($"a[href='#/models/{_model}']", Wait());
        await ScreenshotAsync(page, "1-models");
        Assert.DoesNotContain(TestFunctionsHost.FunctionKey, page.Url, StringComparison.Ordinal);

        await page.ClickAsync($"a[href='#/models/{_model}']");
        await page.WaitForSelectorAsync("#versions-chart canvas", Wait());
        await page.WaitForSelectorAsync($"a[href='#/jobs/{Uri.EscapeDataString($"{_model}/customers.csv")}']", Wait());
        var versionsText = await page.EvaluateExpressionAsync<string>("document.getElementById('view').innerText");
        await ScreenshotAsync(page, "2-model");
        Assert.Contains("champion → v1", versionsText, StringComparison.Ordinal);

        await page.ClickAsync($"a[href='#/runs/{runId}']");
        await page.WaitForSelectorAsync("#trials-chart canvas", Wait());
        await page.WaitForSelectorAsync("#timeline-chart canvas", Wait());
        await page.WaitForFunctionAsync("() => document.getElementById('report')?.contentDocument?.querySelectorAll('img').length > 0", new WaitForFunctionOptions { Timeout = (int)Patience.TotalMilliseconds });
        var trialRows = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#view table tbody tr').length");
        await ScreenshotAsync(page, "3-run");
        Assert.Equal(12, trialRows);

        await page.GoToAsync(new Uri(_host.Http.BaseAddress!, $"api/ui/#/jobs/{_model}/customers.csv").ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('view').innerText.includes('Rows in')", new WaitForFunctionOptions { Timeout = (int)Patience.TotalMilliseconds });
        var jobText = await page.EvaluateExpressionAsync<string>("document.getElementById('view').innerText");
        await ScreenshotAsync(page, "4-scoring-job");
        Assert.Contains("scored", jobText, StringComparison.Ordinal);
        Assert.Contains("Drift of this batch", jobText, StringComparison.Ordinal);

        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task Dashboard_Files_ServedWithoutAKeyWithContentSecurityPolicy()
    {
        using var plain = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        using var redirect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _host.Http.BaseAddress }.GetAsync("api/ui");
        using var index = await plain.GetAsync("api/ui/");
        using var script = await plain.GetAsync("api/ui/app.js");
        using var missing = await plain.GetAsync("api/ui/../host.json");
        using var data = await plain.GetAsync("api/models");

        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.NotEqual(HttpStatusCode.OK, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, data.StatusCode);
    }

    private static WaitForSelectorOptions Wait() => new() { Timeout = (int)Patience.TotalMilliseconds };

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(RepositoryPaths.Root(), "artifacts", "dashboard");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(Path.Combine(folder, $"{name}.png"), new ScreenshotOptions { FullPage = true });
    }
}
