package io.edgeslm.fleet.internal.rest;

import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.TreeMap;

/** The JAX-RS resource methods of some classes, by {@code "METHOD /path/{param}"}. */
public final class ResourceMethods {

  private ResourceMethods() {}

  /** Each resource method of {@code classes} under its HTTP method and full path template. */
  public static Map<String, Method> of(Iterable<Class<?>> classes) {
    Map<String, Method> out = new TreeMap<>();
    for (Class<?> c : classes) {
      Path base = c.getAnnotation(Path.class);
      for (Method m : c.getDeclaredMethods()) {
        String http = httpMethod(m);
        if (http == null) {
          continue;
        }
        Path sub = m.getAnnotation(Path.class);
        out.put(
            http + " " + join(base == null ? "" : base.value(), sub == null ? "" : sub.value()), m);
      }
    }
    return out;
  }

  /** {@code GET}, {@code POST}, … for a resource method, null for any other method. */
  static String httpMethod(Method m) {
    for (Annotation a : m.getAnnotations()) {
      HttpMethod h = a.annotationType().getAnnotation(HttpMethod.class);
      if (h != null) {
        return h.value();
      }
    }
    return null;
  }

  /** {@code /api/v1} and {@code nodes/{id}} give {@code /api/v1/nodes/{id}}. */
  static String join(String base, String sub) {
    String p = ("/" + base + "/" + sub).replaceAll("/+", "/");
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }
}
