using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.TestApp;

var builder = LocalFunctionsHost.CreateBuilder(args, typeof(StepFunctions).Assembly);
builder.Services.AddSingleton<RunLog>();
await builder.Build().RunAsync();
