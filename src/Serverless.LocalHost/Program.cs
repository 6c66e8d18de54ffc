using Microsoft.Extensions.Hosting;
using Serverless.Functions.Hosting;
using Serverless.LocalHost.Hosting;

// The app's functions, hosted as Core Tools would host them; the app's own registration, as its Program.cs calls it.
var builder = LocalFunctionsHost.CreateBuilder(args, typeof(ServerlessPipelineExtensions).Assembly);
builder.AddServerlessPipeline();
await builder.Build().RunAsync();
