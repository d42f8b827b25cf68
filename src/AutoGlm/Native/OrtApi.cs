using System.Runtime.InteropServices;

namespace AutoGlm.Native;

/// <summary>
/// The ONNX Runtime C API: the <c>OrtApi</c> function table read as unmanaged function pointers.
/// Each pointer is taken from the slot that <c>onnxruntime_c_api.h</c> gives it (the table is append-only,
/// so a slot number never changes between releases); only the functions AutoGlm calls are bound.
/// </summary>
/// <remarks>
/// Signatures are blittable only: pointers for every native object and string (<c>byte*</c> is UTF-8),
/// <see cref="nuint"/> for <c>size_t</c>, <see cref="int"/> for C enums. A test asserts this by reflection.
/// Thread-safe: the table is immutable once loaded.
/// </remarks>
internal sealed unsafe class OrtApi
{
    /// <summary>The oldest ONNX Runtime API version whose table holds every slot bound here (1.18 added slot 279).</summary>
    public const uint MinimumApiVersion = 18;

    /// <summary>The API version this table was written against (ONNX Runtime 1.30).</summary>
    public const uint TargetApiVersion = 30;

    // Slot numbers in onnxruntime_c_api.h's struct OrtApi.
    private const int SlotGetErrorCode = 1;
    private const int SlotGetErrorMessage = 2;
    private const int SlotCreateEnvWithCustomLogger = 4;
    private const int SlotCreateSession = 7;
    private const int SlotCreateSessionFromArray = 8;
    private const int SlotRun = 9;
    private const int SlotCreateSessionOptions = 10;
    private const int SlotSetSessionExecutionMode = 13;
    private const int SlotDisableMemPattern = 17;
    private const int SlotSetSessionLogSeverityLevel = 22;
    private const int SlotSetSessionGraphOptimizationLevel = 23;
    private const int SlotSetIntraOpNumThreads = 24;
    private const int SlotSetInterOpNumThreads = 25;
    private const int SlotSessionGetInputCount = 30;
    private const int SlotSessionGetOutputCount = 31;
    private const int SlotSessionGetInputTypeInfo = 33;
    private const int SlotSessionGetOutputTypeInfo = 34;
    private const int SlotSessionGetInputName = 36;
    private const int SlotSessionGetOutputName = 37;
    private const int SlotCreateRunOptions = 39;
    private const int SlotRunOptionsSetTerminate = 46;
    private const int SlotRunOptionsUnsetTerminate = 47;
    private const int SlotCreateTensorAsOrtValue = 48;
    private const int SlotCreateTensorWithDataAsOrtValue = 49;
    private const int SlotIsTensor = 50;
    private const int SlotGetTensorMutableData = 51;
    private const int SlotCastTypeInfoToTensorInfo = 55;
    private const int SlotGetOnnxTypeFromTypeInfo = 56;
    private const int SlotGetTensorElementType = 60;
    private const int SlotGetDimensionsCount = 61;
    private const int SlotGetDimensions = 62;
    private const int SlotGetSymbolicDimensions = 63;
    private const int SlotGetTensorShapeElementCount = 64;
    private const int SlotGetTensorTypeAndShape = 65;
    private const int SlotCreateCpuMemoryInfo = 69;
    private const int SlotAllocatorFree = 76;
    private const int SlotGetAllocatorWithDefaultOptions = 78;
    private const int SlotReleaseEnv = 92;
    private const int SlotReleaseStatus = 93;
    private const int SlotReleaseMemoryInfo = 94;
    private const int SlotReleaseSession = 95;
    private const int SlotReleaseValue = 96;
    private const int SlotReleaseRunOptions = 97;
    private const int SlotReleaseTypeInfo = 98;
    private const int SlotReleaseTensorTypeAndShapeInfo = 99;
    private const int SlotReleaseSessionOptions = 100;
    private const int SlotSessionGetModelMetadata = 111;
    private const int SlotModelMetadataGetProducerName = 112;
    private const int SlotModelMetadataLookupCustomMetadataMap = 116;
    private const int SlotReleaseModelMetadata = 118;
    private const int SlotGetAvailableProviders = 125;
    private const int SlotReleaseAvailableProviders = 126;
    private const int SlotAddSessionConfigEntry = 130;
    private const int SlotRunWithBinding = 133;
    private const int SlotCreateIoBinding = 134;
    private const int SlotReleaseIoBinding = 135;
    private const int SlotBindInput = 136;
    private const int SlotBindOutput = 137;
    private const int SlotBindOutputToDevice = 138;
    private const int SlotGetBoundOutputValues = 140;
    private const int SlotClearBoundInputs = 141;
    private const int SlotClearBoundOutputs = 142;
    private const int SlotAddInitializer = 150;
    private const int SlotSessionOptionsAppendExecutionProviderCudaV2 = 204;
    private const int SlotCreateCudaProviderOptions = 205;
    private const int SlotUpdateCudaProviderOptions = 206;
    private const int SlotReleaseCudaProviderOptions = 208;
    private const int SlotAddExternalInitializers = 210;
    private const int SlotSessionOptionsAppendExecutionProvider = 216;
    private const int SlotAddExternalInitializersFromFilesInMemory = 279;

    private OrtApi(void** table, uint version)
    {
        ApiVersion = version;
        GetErrorCode = (delegate* unmanaged<nint, int>)table[SlotGetErrorCode];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)table[SlotGetErrorMessage];
        CreateEnvWithCustomLogger = (delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint>)table[SlotCreateEnvWithCustomLogger];
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)table[SlotCreateSession];
        CreateSessionFromArray = (delegate* unmanaged<nint, void*, nuint, nint, nint*, nint>)table[SlotCreateSessionFromArray];
        Run = (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)table[SlotRun];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateSessionOptions];
        SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)table[SlotSetSessionExecutionMode];
        DisableMemPattern = (delegate* unmanaged<nint, nint>)table[SlotDisableMemPattern];
        SetSessionLogSeverityLevel = (delegate* unmanaged<nint, int, nint>)table[SlotSetSessionLogSeverityLevel];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)table[SlotSetSessionGraphOptimizationLevel];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SlotSetIntraOpNumThreads];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SlotSetInterOpNumThreads];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotSessionGetInputCount];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotSessionGetOutputCount];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SlotSessionGetInputTypeInfo];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SlotSessionGetOutputTypeInfo];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[SlotSessionGetInputName];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[SlotSessionGetOutputName];
        CreateRunOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateRunOptions];
        RunOptionsSetTerminate = (delegate* unmanaged<nint, nint>)table[SlotRunOptionsSetTerminate];
        RunOptionsUnsetTerminate = (delegate* unmanaged<nint, nint>)table[SlotRunOptionsUnsetTerminate];
        CreateTensorAsOrtValue = (delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)table[SlotCreateTensorAsOrtValue];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)table[SlotCreateTensorWithDataAsOrtValue];
        IsTensor = (delegate* unmanaged<nint, int*, nint>)table[SlotIsTensor];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)table[SlotGetTensorMutableData];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)table[SlotCastTypeInfoToTensorInfo];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)table[SlotGetOnnxTypeFromTypeInfo];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)table[SlotGetTensorElementType];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotGetDimensionsCount];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)table[SlotGetDimensions];
        GetSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)table[SlotGetSymbolicDimensions];
        GetTensorShapeElementCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotGetTensorShapeElementCount];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)table[SlotGetTensorTypeAndShape];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)table[SlotCreateCpuMemoryInfo];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)table[SlotAllocatorFree];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)table[SlotGetAllocatorWithDefaultOptions];
        ReleaseEnv = (delegate* unmanaged<nint, void>)table[SlotReleaseEnv];
        ReleaseStatus = (delegate* unmanaged<nint, void>)table[SlotReleaseStatus];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseMemoryInfo];
        ReleaseSession = (delegate* unmanaged<nint, void>)table[SlotReleaseSession];
        ReleaseValue = (delegate* unmanaged<nint, void>)table[SlotReleaseValue];
        ReleaseRunOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseRunOptions];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseTypeInfo];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseTensorTypeAndShapeInfo];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseSessionOptions];
        SessionGetModelMetadata = (delegate* unmanaged<nint, nint*, nint>)table[SlotSessionGetModelMetadata];
        ModelMetadataGetProducerName = (delegate* unmanaged<nint, nint, byte**, nint>)table[SlotModelMetadataGetProducerName];
        ModelMetadataLookupCustomMetadataMap = (delegate* unmanaged<nint, nint, byte*, byte**, nint>)table[SlotModelMetadataLookupCustomMetadataMap];
        ReleaseModelMetadata = (delegate* unmanaged<nint, void>)table[SlotReleaseModelMetadata];
        GetAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)table[SlotGetAvailableProviders];
        ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)table[SlotReleaseAvailableProviders];
        AddSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)table[SlotAddSessionConfigEntry];
        RunWithBinding = (delegate* unmanaged<nint, nint, nint, nint>)table[SlotRunWithBinding];
        CreateIoBinding = (delegate* unmanaged<nint, nint*, nint>)table[SlotCreateIoBinding];
        ReleaseIoBinding = (delegate* unmanaged<nint, void>)table[SlotReleaseIoBinding];
        BindInput = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindInput];
        BindOutput = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindOutput];
        BindOutputToDevice = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindOutputToDevice];
        GetBoundOutputValues = (delegate* unmanaged<nint, nint, nint**, nuint*, nint>)table[SlotGetBoundOutputValues];
        ClearBoundInputs = (delegate* unmanaged<nint, void>)table[SlotClearBoundInputs];
        ClearBoundOutputs = (delegate* unmanaged<nint, void>)table[SlotClearBoundOutputs];
        AddInitializer = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotAddInitializer];
        SessionOptionsAppendExecutionProviderCudaV2 = (delegate* unmanaged<nint, nint, nint>)table[SlotSessionOptionsAppendExecutionProviderCudaV2];
        CreateCudaProviderOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateCudaProviderOptions];
        UpdateCudaProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)table[SlotUpdateCudaProviderOptions];
        ReleaseCudaProviderOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseCudaProviderOptions];
        AddExternalInitializers = (delegate* unmanaged<nint, byte**, nint*, nuint, nint>)table[SlotAddExternalInitializers];
        SessionOptionsAppendExecutionProvider = (delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint>)table[SlotSessionOptionsAppendExecutionProvider];
        AddExternalInitializersFromFilesInMemory = (delegate* unmanaged<nint, byte**, byte**, nuint*, nuint, nint>)table[SlotAddExternalInitializersFromFilesInMemory];
    }

    /// <summary>The API version the table was obtained for.</summary>
    public uint ApiVersion { get; }

    public readonly delegate* unmanaged<nint, int> GetErrorCode;
    public readonly delegate* unmanaged<nint, byte*> GetErrorMessage;
    public readonly delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint> CreateEnvWithCustomLogger;
    public readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession;
    public readonly delegate* unmanaged<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray;
    public readonly delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run;
    public readonly delegate* unmanaged<nint*, nint> CreateSessionOptions;
    public readonly delegate* unmanaged<nint, int, nint> SetSessionExecutionMode;
    public readonly delegate* unmanaged<nint, nint> DisableMemPattern;
    public readonly delegate* unmanaged<nint, int, nint> SetSessionLogSeverityLevel;
    public readonly delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel;
    public readonly delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads;
    public readonly delegate* unmanaged<nint, int, nint> SetInterOpNumThreads;
    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount;
    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount;
    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo;
    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;
    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName;
    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName;
    public readonly delegate* unmanaged<nint*, nint> CreateRunOptions;
    public readonly delegate* unmanaged<nint, nint> RunOptionsSetTerminate;
    public readonly delegate* unmanaged<nint, nint> RunOptionsUnsetTerminate;
    public readonly delegate* unmanaged<nint, long*, nuint, int, nint*, nint> CreateTensorAsOrtValue;
    public readonly delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public readonly delegate* unmanaged<nint, int*, nint> IsTensor;
    public readonly delegate* unmanaged<nint, void**, nint> GetTensorMutableData;
    public readonly delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public readonly delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo;
    public readonly delegate* unmanaged<nint, int*, nint> GetTensorElementType;
    public readonly delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;
    public readonly delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;
    public readonly delegate* unmanaged<nint, byte**, nuint, nint> GetSymbolicDimensions;
    public readonly delegate* unmanaged<nint, nuint*, nint> GetTensorShapeElementCount;
    public readonly delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;
    public readonly delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;
    public readonly delegate* unmanaged<nint, void*, nint> AllocatorFree;
    public readonly delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;
    public readonly delegate* unmanaged<nint, void> ReleaseEnv;
    public readonly delegate* unmanaged<nint, void> ReleaseStatus;
    public readonly delegate* unmanaged<nint, void> ReleaseMemoryInfo;
    public readonly delegate* unmanaged<nint, void> ReleaseSession;
    public readonly delegate* unmanaged<nint, void> ReleaseValue;
    public readonly delegate* unmanaged<nint, void> ReleaseRunOptions;
    public readonly delegate* unmanaged<nint, void> ReleaseTypeInfo;
    public readonly delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo;
    public readonly delegate* unmanaged<nint, void> ReleaseSessionOptions;
    public readonly delegate* unmanaged<nint, nint*, nint> SessionGetModelMetadata;
    public readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetProducerName;
    public readonly delegate* unmanaged<nint, nint, byte*, byte**, nint> ModelMetadataLookupCustomMetadataMap;
    public readonly delegate* unmanaged<nint, void> ReleaseModelMetadata;
    public readonly delegate* unmanaged<byte***, int*, nint> GetAvailableProviders;
    public readonly delegate* unmanaged<byte**, int, nint> ReleaseAvailableProviders;
    public readonly delegate* unmanaged<nint, byte*, byte*, nint> AddSessionConfigEntry;
    public readonly delegate* unmanaged<nint, nint, nint, nint> RunWithBinding;
    public readonly delegate* unmanaged<nint, nint*, nint> CreateIoBinding;
    public readonly delegate* unmanaged<nint, void> ReleaseIoBinding;
    public readonly delegate* unmanaged<nint, byte*, nint, nint> BindInput;
    public readonly delegate* unmanaged<nint, byte*, nint, nint> BindOutput;
    public readonly delegate* unmanaged<nint, byte*, nint, nint> BindOutputToDevice;
    public readonly delegate* unmanaged<nint, nint, nint**, nuint*, nint> GetBoundOutputValues;
    public readonly delegate* unmanaged<nint, void> ClearBoundInputs;
    public readonly delegate* unmanaged<nint, void> ClearBoundOutputs;
    public readonly delegate* unmanaged<nint, byte*, nint, nint> AddInitializer;
    public readonly delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProviderCudaV2;
    public readonly delegate* unmanaged<nint*, nint> CreateCudaProviderOptions;
    public readonly delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateCudaProviderOptions;
    public readonly delegate* unmanaged<nint, void> ReleaseCudaProviderOptions;
    public readonly delegate* unmanaged<nint, byte**, nint*, nuint, nint> AddExternalInitializers;
    public readonly delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint> SessionOptionsAppendExecutionProvider;
    public readonly delegate* unmanaged<nint, byte**, byte**, nuint*, nuint, nint> AddExternalInitializersFromFilesInMemory;

    /// <summary>Reads the table that <c>OrtApiBase.GetApi(version)</c> returned.</summary>
    public static OrtApi FromTable(void* table, uint version)
    {
        if (table == null)
        {
            throw new ArgumentNullException(nameof(table));
        }

        return new OrtApi((void**)table, version);
    }

    /// <summary>
    /// The one place an <c>OrtStatus*</c> becomes an exception. A null status is success; any other is
    /// released here, whatever happens, and raised as <see cref="AutoGlmNativeException"/>.
    /// </summary>
    /// <param name="status">The status the call returned.</param>
    /// <param name="operation">What AutoGlm was doing, for the message (e.g. "creating a session for 'model.onnx'").</param>
    public void ThrowIfFailed(nint status, string operation)
    {
        if (status == 0)
        {
            return;
        }

        throw ToException(status, operation);
    }

    /// <summary>Turns a non-null status into an exception and releases it.</summary>
    public AutoGlmNativeException ToException(nint status, string operation)
    {
        try
        {
            var code = (OnnxRuntimeErrorCode)GetErrorCode(status);
            string message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "(no message)";
            return new AutoGlmNativeException(code, $"ONNX Runtime failed while {operation}: [{code}] {message}");
        }
        finally
        {
            ReleaseStatus(status);
        }
    }

    /// <summary>Reads the status's code and message without throwing, and releases it.</summary>
    public (OnnxRuntimeErrorCode Code, string Message) ReadAndRelease(nint status)
    {
        try
        {
            return ((OnnxRuntimeErrorCode)GetErrorCode(status), Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? string.Empty);
        }
        finally
        {
            ReleaseStatus(status);
        }
    }
}
