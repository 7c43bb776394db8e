/**
 * The Functions app entry (package.json "main"): one registered function per module. The host (Azure, or
 * local/functions-host) loads this file and captures every registration.
 */
import '../entities/blobState';
import '../orchestrators/processBlob';
import '../orchestrators/bulkRerun';
import '../activities/planBlobRead';
import '../activities/parseChunk';
import '../activities/emitChunk';
import '../activities/recordBlobStatus';
import '../activities/listBulkTargets';
import '../activities/readBulkTargets';
import '../triggers/blobCreated';
import '../triggers/sweep';
import '../triggers/refreshThreatFeeds';
import '../triggers/refreshTopology';
import '../triggers/refreshServiceTags';
import '../triggers/rerunBlob';
import '../triggers/replayRange';
import '../triggers/rerunFailed';
import '../triggers/getBlob';
import '../triggers/listBlobs';
import '../triggers/listHours';
import '../triggers/getJob';
