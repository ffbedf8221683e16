package io.edgeslm.inference.internal.worker;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.LogFormat;
import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelSpec;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Entry point of the worker process: hosts one llama.cpp model and serves the supervisor over a
 * Unix domain socket (see {@link Frame}).
 *
 * <p>Life line: the worker exits as soon as its standard input or its socket reaches end of stream,
 * so it never outlives the supervisor, even one killed with SIGKILL. It always leaves through
 * {@link Runtime#halt(int)}: the binding keeps a non-daemon native thread alive after {@code
 * close()}, and closing a model while requests decode is unsafe, so the process ends without
 * closing it and the kernel reclaims the memory.
 *
 * <p>Usage: {@code WorkerMain <socket path>}; the first line on stdin is the shared secret.
 */
public final class WorkerMain {

  /** Exit codes, documented in docs/inference.md. */
  static final int EXIT_OK = 0;

  static final int EXIT_HOST_GONE = 3;
  static final int EXIT_PROTOCOL = 4;
  static final int EXIT_USAGE = 64;

  private final DataOutputStream out;
  private final Map<Long, Running> running = new ConcurrentHashMap<>();
  private final Map<String, String> grammarCache =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
          return size() > 32;
        }
      };
  private volatile LlamaModel model;
  private volatile ModelSpec spec;

  /** A generation in progress; cancellation is cooperative (see {@link #generate}). */
  private static final class Running {
    volatile boolean cancelled;
  }

  private WorkerMain(DataOutputStream out) {
    this.out = out;
  }

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: WorkerMain <socket path>; the secret comes on stdin");
      Runtime.getRuntime().halt(EXIT_USAGE);
    }
    try {
      BufferedReader stdin =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String secret = stdin.readLine();
      if (secret == null) {
        Runtime.getRuntime().halt(EXIT_HOST_GONE);
      }
      Thread lifeline =
          new Thread(
              () -> {
                try {
                  while (stdin.read() >= 0) {
                    // The supervisor never writes after the secret; anything is ignored.
                  }
                } catch (IOException ignored) {
                  // Treated like end of stream.
                }
                Runtime.getRuntime().halt(EXIT_HOST_GONE);
              },
              "edgeslm-worker-lifeline");
      lifeline.setDaemon(true);
      lifeline.start();

      SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(Path.of(args[0])));
      DataInputStream in =
          new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 65536));
      DataOutputStream out =
          new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 65536));
      WorkerMain worker = new WorkerMain(out);
      worker.send(
          new Frame(
              Frame.Type.HELLO,
              0,
              Wire.encodeHello(new Wire.Hello(secret, ProcessHandle.current().pid()))));
      worker.serve(in);
    } catch (EOFException e) {
      Runtime.getRuntime().halt(EXIT_HOST_GONE);
    } catch (IOException | RuntimeException e) {
      System.err.println("edgeslm worker: " + e);
      Runtime.getRuntime().halt(EXIT_PROTOCOL);
    }
  }

  private void serve(DataInputStream in) throws IOException {
    while (true) {
      Frame f = Frame.readFrom(in);
      switch (f.type()) {
        case PING -> send(Frame.of(Frame.Type.PONG, f.id()));
        case LOAD -> startThread("load", () -> load(f));
        case GENERATE -> startThread("generate-" + f.id(), () -> generate(f));
        case COUNT -> startThread("count-" + f.id(), () -> count(f));
        case CANCEL -> {
          Running r = running.get(f.id());
          if (r != null) {
            r.cancelled = true;
          }
        }
        case SHUTDOWN -> {
          out.flush();
          Runtime.getRuntime().halt(EXIT_OK);
        }
        default -> throw new IOException("Unexpected frame " + f.type() + " from the host");
      }
    }
  }

  private static void startThread(String name, Runnable r) {
    Thread t = new Thread(r, "edgeslm-worker-" + name);
    t.setDaemon(true);
    t.start();
  }

  private void load(Frame f) {
    try {
      ModelSpec s = Wire.decodeSpec(f.payload());
      if (model != null) {
        sendError(f.id(), Wire.ErrorKind.LOAD, "This worker already holds a model.");
        return;
      }
      long start = System.nanoTime();
      // llama.cpp logs every slot event; keep warnings and errors only, on stderr, which the
      // supervisor drains into a bounded buffer.
      LlamaModel.setLogger(
          LogFormat.TEXT,
          (level, msg) -> {
            if (level == LogLevel.WARN || level == LogLevel.ERROR) {
              System.err.print(msg);
            }
          });
      ModelParameters p =
          new ModelParameters()
              .setModel(s.gguf().toString())
              .setThreads(s.threads())
              .setCtxSize(s.contextSize())
              .setParallel(s.parallelSlots());
      for (Path lora : s.loraAdapters()) {
        p.addLoraAdapter(lora.toString());
      }
      model = new LlamaModel(p);
      spec = s;
      long bytes = Files.size(s.gguf());
      long millis = (System.nanoTime() - start) / 1_000_000;
      send(
          new Frame(
              Frame.Type.LOADED,
              f.id(),
              Wire.encodeLoaded(
                  new Wire.Loaded(bytes, s.contextSize(), s.parallelSlots(), millis))));
    } catch (IOException | RuntimeException | Error e) {
      sendError(f.id(), Wire.ErrorKind.LOAD, String.valueOf(e.getMessage()));
    }
  }

  private void count(Frame f) {
    try {
      LlamaModel m = requireModel();
      GenerationRequest r = Wire.decodeRequest(f.payload());
      int n = m.encode(promptOf(m, r)).length;
      send(new Frame(Frame.Type.COUNTED, f.id(), Wire.encodeInt(n)));
    } catch (IOException | RuntimeException e) {
      sendError(f.id(), Wire.ErrorKind.REQUEST, String.valueOf(e.getMessage()));
    }
  }

  /**
   * Streams one generation. Cancellation is checked between tokens on this thread: the binding's
   * own {@code cancel()} from another thread leaves a blocked {@code receiveCompletion} waiting
   * forever, since a cancelled task produces no further result.
   */
  private void generate(Frame f) {
    long id = f.id();
    Running state = new Running();
    running.put(id, state);
    try {
      LlamaModel m = requireModel();
      GenerationRequest r = Wire.decodeRequest(f.payload());
      String prompt = promptOf(m, r);
      int promptTokens = m.encode(prompt).length;
      InferenceParameters p =
          new InferenceParameters(prompt)
              .setNPredict(r.nPredict())
              .setTemperature((float) r.temperature());
      if (r.seed() >= 0) {
        p.setSeed(r.seed());
      }
      if (!r.stopStrings().isEmpty()) {
        p.setStopStrings(r.stopStrings().toArray(String[]::new));
      }
      if (r.grammar() != null) {
        p.setGrammar(r.grammar());
      } else if (r.jsonSchema() != null) {
        p.setGrammar(grammarFor(r.jsonSchema()));
      }
      LlamaIterator it = m.generate(p).iterator();
      int generated = 0;
      boolean cancelled = false;
      while (it.hasNext()) {
        if (state.cancelled) {
          it.cancel();
          cancelled = true;
          break;
        }
        LlamaOutput o = it.next();
        boolean last = !it.hasNext();
        if (!o.text.isEmpty()) {
          send(new Frame(Frame.Type.TOKEN, id, Wire.encodeText(o.text)));
        }
        // Every streamed result but the closing one carries one sampled token; the closing one
        // carries the last token's text only when generation stopped by length.
        if (!last || !o.text.isEmpty()) {
          generated++;
        }
      }
      FinishReason reason =
          cancelled
              ? FinishReason.CANCELLED
              : generated >= r.nPredict() ? FinishReason.LENGTH : FinishReason.STOP;
      send(new Frame(Frame.Type.DONE, id, Wire.encodeDone(promptTokens, generated, reason)));
    } catch (IOException | RuntimeException e) {
      sendError(id, Wire.ErrorKind.REQUEST, String.valueOf(e.getMessage()));
    } finally {
      running.remove(id);
    }
  }

  private String grammarFor(String schema) {
    synchronized (grammarCache) {
      return grammarCache.computeIfAbsent(schema, LlamaModel::jsonSchemaToGrammar);
    }
  }

  private LlamaModel requireModel() {
    LlamaModel m = model;
    if (m == null) {
      throw new IllegalStateException("No model loaded yet");
    }
    return m;
  }

  /** The prompt text: as given, or the chat messages rendered with the model's template. */
  static String promptOf(LlamaModel m, GenerationRequest r) {
    if (!r.isChat()) {
      return r.prompt();
    }
    StringBuilder system = new StringBuilder();
    List<Pair<String, String>> turns = new ArrayList<>();
    for (ChatMessage msg : r.messages()) {
      if (msg.role() == ChatMessage.Role.SYSTEM) {
        if (!system.isEmpty()) {
          system.append('\n');
        }
        system.append(msg.content());
      } else {
        turns.add(new Pair<>(msg.role().wireName(), msg.content()));
      }
    }
    InferenceParameters p = new InferenceParameters("").setMessages(system.toString(), turns);
    return m.applyTemplate(p);
  }

  private void sendError(long id, Wire.ErrorKind kind, String message) {
    try {
      send(new Frame(Frame.Type.ERROR, id, Wire.encodeError(kind, message)));
    } catch (IOException e) {
      Runtime.getRuntime().halt(EXIT_HOST_GONE);
    }
  }

  private void send(Frame f) throws IOException {
    synchronized (out) {
      f.writeTo(out);
      out.flush();
    }
  }

  /** For diagnostics: the loaded spec, or null. */
  ModelSpec spec() {
    return spec;
  }
}
